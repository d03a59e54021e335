/**
 * The small key-value port the SDK stores through. The browser gives it localStorage, a cookie jar or
 * plain memory (consent not given yet); tests in Node give it a Map. Implementations never throw:
 * a full or blocked storage simply keeps nothing.
 */
export interface KV {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
  /** every key this store holds (used to adopt retry buffers left by closed tabs) */
  keys(): string[];
}

/** A KV in memory: what the SDK uses while it may not store anything persistently. */
export function memoryKV(): KV {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k) ?? null,
    set: (k, v) => void m.set(k, v),
    remove: (k) => void m.delete(k),
    keys: () => [...m.keys()],
  };
}

/**
 * Reads through to `base`, keeps every write in memory: what the SDK uses before it knows whether it
 * may store (an id stored on an earlier visit is still read; nothing new is written).
 */
export function overlayKV(base: KV): KV {
  const m = new Map<string, string | null>();
  return {
    get: (k) => (m.has(k) ? (m.get(k) ?? null) : base.get(k)),
    set: (k, v) => void m.set(k, v),
    remove: (k) => void m.set(k, null),
    keys: () => {
      const ks = new Set(base.keys());
      for (const [k, v] of m) {
        if (v === null) ks.delete(k);
        else ks.add(k);
      }
      return [...ks];
    },
  };
}
