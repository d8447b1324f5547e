const INITIAL_CAPACITY = 1 << 16;

/**
 * A set of 96-bit string hashes in three typed arrays (open addressing): remembers which strings
 * were seen without keeping them. 1M members take 24–48 MB instead of ~100 MB for a `Set` of the
 * strings, which did not fit the CLI's 128 MB heap when a Redis listing passed ~1.5M keys.
 *
 * The hash is a fast non-cryptographic one (three 32-bit multiply-xorshift lanes, as in cyrb53):
 * a false "seen" needs a 96-bit collision, about 1e-17 for 2.5M members of honest input. Used
 * where the members are keyed digests or the tokens of a dump; a crafted collision could only
 * make its own author's input look repeated.
 */
export class DigestSet {
  #a = new Uint32Array(INITIAL_CAPACITY);
  #b = new Uint32Array(INITIAL_CAPACITY);
  #c = new Uint32Array(INITIAL_CAPACITY);
  #count = 0;

  /** Members added so far. */
  get size(): number {
    return this.#count;
  }

  /** Add `value`; false when it was already present. */
  add(value: string): boolean {
    const n = value.length;
    let h1 = 0xdeadbeef ^ n;
    let h2 = 0x41c6ce57 ^ n;
    let h3 = 0x9e3779b9 ^ n;
    for (let i = 0; i < n; i++) {
      const ch = value.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
      h3 = Math.imul(h3 ^ ch, 2246822519);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    h3 = Math.imul(h3 ^ (h3 >>> 15), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 11), 3266489909);
    // A third word of 0 marks an empty slot, so it is stored as 1 (costs one bit of 96).
    if ((this.#count + 1) * 2 > this.#a.length) this.#grow();
    return this.#insert(h1 >>> 0, h2 >>> 0, h3 >>> 0 || 1);
  }

  #insert(a: number, b: number, c: number): boolean {
    const mask = this.#a.length - 1;
    let slot = (a ^ c) & mask;
    while (this.#c[slot] !== 0) {
      if (this.#c[slot] === c && this.#a[slot] === a && this.#b[slot] === b) return false;
      slot = (slot + 1) & mask;
    }
    this.#a[slot] = a;
    this.#b[slot] = b;
    this.#c[slot] = c;
    this.#count++;
    return true;
  }

  #grow(): void {
    const [a, b, c] = [this.#a, this.#b, this.#c];
    this.#a = new Uint32Array(a.length * 2);
    this.#b = new Uint32Array(b.length * 2);
    this.#c = new Uint32Array(c.length * 2);
    this.#count = 0;
    for (let i = 0; i < c.length; i++) if (c[i] !== 0) this.#insert(a[i]!, b[i]!, c[i]!);
  }
}
