/**
 * First-party storage in the browser: localStorage when it works, else cookies on the site's own
 * domain (identity only: the retry buffer is too large for cookies and stays in memory then).
 */
import { memoryKV, type KV } from './kv.js';

/** A Web Storage object as a KV, or null when the browser blocks it (private modes, sandboxed frames). */
export function webStorageKV(which: 'localStorage' | 'sessionStorage'): KV | null {
  try {
    const s = window[which];
    const probe = '__kz_probe';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return {
      get: (k) => {
        try {
          return s.getItem(k);
        } catch {
          return null;
        }
      },
      set: (k, v) => {
        try {
          s.setItem(k, v);
        } catch {
          // full (quota) or blocked: this value lives in memory only (the caller keeps it there)
        }
      },
      remove: (k) => {
        try {
          s.removeItem(k);
        } catch {
          // nothing to do
        }
      },
      keys: () => {
        const out: string[] = [];
        for (let i = 0; i < s.length; i++) {
          const k = s.key(i);
          if (k !== null) out.push(k);
        }
        return out;
      },
    };
  } catch {
    return null;
  }
}

const YEAR_S = 365 * 24 * 3600;

/** Cookies as a KV: first-party, `SameSite=Lax`, `Secure` on https, kept a year. */
export function cookieKV(): KV {
  const all = (): Map<string, string> => {
    const m = new Map<string, string>();
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      try {
        m.set(decodeURIComponent(part.slice(0, eq).trim()), decodeURIComponent(part.slice(eq + 1).trim()));
      } catch {
        // a cookie of the site's that is not ours
      }
    }
    return m;
  };
  const write = (k: string, v: string, maxAge: number) => {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `${encodeURIComponent(k)}=${encodeURIComponent(v)}; path=/; max-age=${maxAge}; SameSite=Lax${secure}`;
  };
  return {
    get: (k) => all().get(k) ?? null,
    set: (k, v) => write(k, v, YEAR_S),
    remove: (k) => write(k, '', 0),
    keys: () => [...all().keys()].filter((k) => k.startsWith('kz_')),
  };
}

/** The stores the SDK uses when it may store persistently. */
export interface Stores {
  /** anonymous id, user id, traits, consent: localStorage, else cookies */
  identity: KV;
  /** the retry buffer: localStorage, else memory */
  buffer: KV;
  /** the session id: sessionStorage, else memory */
  session: KV;
}

export function persistentStores(): Stores {
  const local = webStorageKV('localStorage');
  let cookies: KV | null = null;
  try {
    cookies = cookieKV();
    cookies.get('kz_probe');
  } catch {
    cookies = null;
  }
  return {
    identity: local ?? cookies ?? memoryKV(),
    buffer: local ?? memoryKV(),
    session: webStorageKV('sessionStorage') ?? memoryKV(),
  };
}

export function memoryStores(): Stores {
  return { identity: memoryKV(), buffer: memoryKV(), session: memoryKV() };
}
