/**
 * Calls to the SDK-facing endpoints (docs/sdk.md, the contract in the issue): GETs carry the write key
 * and identity as query parameters and POSTs carry them in a text/plain JSON body, so every call is a
 * CORS "simple request" with no preflight (DELETE is the one exception).
 */
export interface Who {
  anonymousId: string;
  userId: string | null;
  userHash: string | null;
}

export class Api {
  constructor(
    readonly host: string,
    private readonly writeKey: string,
    private readonly who: () => Who,
  ) {}

  url(path: string, query: Record<string, string | null | undefined> = {}): string {
    const u = new URL(this.host + path);
    u.searchParams.set('writeKey', this.writeKey);
    for (const [k, v] of Object.entries(query)) if (v) u.searchParams.set(k, v);
    return u.toString();
  }

  /** GET as JSON with the customer's identity; null on any failure. */
  async get<T>(path: string, withIdentity = true, extra: Record<string, string> = {}): Promise<T | null> {
    const w = this.who();
    const q = withIdentity ? { anonymousId: w.anonymousId, userId: w.userId, userHash: w.userHash } : {};
    try {
      const res = await fetch(this.url(path, { ...q, ...extra }), { credentials: 'omit' });
      if (!res.ok) return null;
      return (await res.json()) as T;
    } catch {
      return null;
    }
  }

  /** POST (or DELETE) a JSON body with the write key and identity; the HTTP status, 0 on a network failure. */
  async send(path: string, body: Record<string, unknown>, method = 'POST'): Promise<number> {
    const w = this.who();
    const full: Record<string, unknown> = { writeKey: this.writeKey, anonymousId: w.anonymousId, ...body };
    if (w.userId !== null) full['userId'] = w.userId;
    if (w.userHash !== null) full['userHash'] = w.userHash;
    try {
      const res = await fetch(this.host + path, {
        method,
        body: JSON.stringify(full),
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        credentials: 'omit',
        // A click may navigate away at once: let the report outlive the page (POST only: no preflight).
        keepalive: method === 'POST',
      });
      return res.status;
    } catch {
      return 0;
    }
  }
}
