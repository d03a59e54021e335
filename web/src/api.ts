/**
 * The admin API client. The dashboard signs in with a staff session only: an HttpOnly cookie the
 * browser keeps, plus the CSRF token the session answered with, held in memory (docs/dashboard.md).
 * No secret is written to browser storage. Every failure is an ApiError carrying the server's
 * message, so screens can show it in words.
 */

export interface Issue {
  field: string;
  rule: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

let csrf: string | null = null;
let onUnauthorized: () => void = () => undefined;

export function useSessionCsrf(token: string): void {
  csrf = token;
}

export function forgetCredentials(): void {
  csrf = null;
}

/** Called when a request is refused for missing or expired credentials (the shell signs out). */
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

interface ErrorBody {
  error?: { code?: string; message?: string; issues?: Issue[] };
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf !== null && method !== 'GET') headers['x-csrf-token'] = csrf;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `the server could not be reached (${(e as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as ErrorBody | null)?.error;
    if (res.status === 401 && path !== '/session') onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? 'http',
      err?.message ?? `${method} ${path} answered ${res.status}`,
      err?.issues ?? [],
    );
  }
  return json as T;
}

export const get = <T>(path: string): Promise<T> => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown): Promise<T> => request<T>('PUT', path, body);
export const del = (path: string): Promise<void> => request<void>('DELETE', path);

/**
 * Fetches a file (CSV report, data export) with the session cookie and hands it to the browser to
 * save; a refusal is an ApiError like any other, so the screen shows it in words.
 */
export async function download(path: string, filename: string, body?: unknown): Promise<void> {
  // A report defined by a body (a funnel) is POSTed, with the CSRF token like any other write.
  const res = await fetch(`/api/v1${path}`, {
    credentials: 'same-origin',
    ...(body !== undefined && {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(csrf !== null && { 'x-csrf-token': csrf }) },
      body: JSON.stringify(body),
    }),
  });
  if (!res.ok) {
    const err = ((await res.json().catch(() => null)) as ErrorBody | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `export answered ${res.status}`);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

export const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const out = s.toString();
  return out ? `?${out}` : '';
};
