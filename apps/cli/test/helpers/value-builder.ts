import type { JsonHandler } from '../../src/json/grammar.js';
import type { JsonPrimitive } from '../../src/json/token.js';

/** Rebuilds the parsed value from grammar events, to compare with JSON.parse. */
export class ValueBuilder implements JsonHandler {
  value: unknown;
  ended = false;
  private readonly stack: Array<{ container: Record<string, unknown> | unknown[]; key: string | undefined }> =
    [];

  private add(v: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) this.value = v;
    else if (Array.isArray(top.container)) top.container.push(v);
    else
      Object.defineProperty(top.container, top.key!, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  startObject(): void {
    const obj: Record<string, unknown> = {};
    this.add(obj);
    this.stack.push({ container: obj, key: undefined });
  }
  startArray(): void {
    const arr: unknown[] = [];
    this.add(arr);
    this.stack.push({ container: arr, key: undefined });
  }
  endObject(): void {
    this.stack.pop();
  }
  endArray(): void {
    this.stack.pop();
  }
  key(name: string): void {
    this.stack[this.stack.length - 1]!.key = name;
  }
  primitive(value: JsonPrimitive): void {
    this.add(value);
  }
  end(): void {
    this.ended = true;
  }
}
