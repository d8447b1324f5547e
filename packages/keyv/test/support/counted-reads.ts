import type { CacheStore } from '@oauth-cache/core';

/** A real store, its reads (`get*` methods) counted by method; the calls pass through unchanged. */
export function counted<T extends CacheStore>(store: T): { store: T; reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver === proxy ? target : receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof name === 'string' && /^get/.test(name)) reads[name] = (reads[name] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, reads };
}
