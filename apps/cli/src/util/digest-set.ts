const INITIAL_CAPACITY = 1 << 16;

/**
 * A set of 64-bit string hashes in two typed arrays (open addressing): remembers which tokens were
 * seen without keeping the tokens. 1M members take 16 MB instead of ~150 MB for a `Set` of
 * strings. A false "seen" needs a 64-bit collision: about 3e-8 for 1M members of an honest dump.
 * The hash is a fast non-cryptographic one (two 32-bit multiply-xorshift lanes, as in cyrb53):
 * SHA-256 cost a third of the parse time, and a crafted collision could only make its own
 * author's dump report a duplicate.
 */
export class DigestSet {
  private hi = new Uint32Array(INITIAL_CAPACITY);
  private lo = new Uint32Array(INITIAL_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Add `value`; resolves false when it was already present. */
  add(value: string): boolean {
    let h1 = 0xdeadbeef ^ value.length;
    let h2 = 0x41c6ce57 ^ value.length;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    // (0, 0) marks an empty slot, so a low word of 0 is stored as 1 (costs one bit of 64).
    const hi = h1 >>> 0;
    const lo = h2 >>> 0 || 1;
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    return this.insert(hi, lo);
  }

  private insert(hi: number, lo: number): boolean {
    const mask = this.hi.length - 1;
    let slot = (hi ^ lo) & mask;
    while (this.lo[slot] !== 0) {
      if (this.hi[slot] === hi && this.lo[slot] === lo) return false;
      slot = (slot + 1) & mask;
    }
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.count++;
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.count = 0;
    for (let i = 0; i < oldLo.length; i++) {
      if (oldLo[i] !== 0) this.insert(oldHi[i]!, oldLo[i]!);
    }
  }
}
