/**
 * The few error classes Kizuna throws on purpose. Each knows its HTTP status; `src/api/errors.ts` is
 * the one place that turns them into responses. Anything else that escapes is a bug (500).
 */
export interface FieldIssue {
  /** JSON-path-like location of the offending value, e.g. `batch[3].userId`. */
  readonly field: string;
  /** The rule it broke, in words. */
  readonly rule: string;
}

/**
 * A validator's path as a field name in that one style: array positions in brackets, keys after dots
 * (`["topics", 1, "id"]` → `topics[1].id`), so hand-written checks and zod schemas name fields alike.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? String(k) : `.${String(k)}`;
  return out;
}

export abstract class KizunaError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
}

/** Input that breaks a rule: 400 with one entry per offending field. */
export class ValidationError extends KizunaError {
  readonly status = 400;
  readonly code = 'invalid_request';
  constructor(
    readonly issues: readonly FieldIssue[],
    options?: ErrorOptions,
  ) {
    super(issues.map((i) => `${i.field}: ${i.rule}`).join('; '), options);
    this.name = 'ValidationError';
  }
}

export class AuthenticationError extends KizunaError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthenticationError';
  }
}

/**
 * Authenticated, but not allowed: 403. `code` is `forbidden` (with the missing `permission`) or `csrf`
 * (a cookie-authenticated change without the session's X-CSRF-Token).
 */
export class ForbiddenError extends KizunaError {
  readonly status = 403;
  constructor(
    readonly code: 'forbidden' | 'csrf',
    message: string,
    readonly permission: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ForbiddenError';
  }
}

/** Too many requests for one key: 429 with Retry-After (whole seconds). */
export class RateLimitedError extends KizunaError {
  readonly status = 429;
  readonly code = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RateLimitedError';
  }
}

export class NotFoundError extends KizunaError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends KizunaError {
  readonly status = 409;
  readonly code = 'conflict';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The store could not do its work (connection lost, disk full, retries exhausted): 503. */
export class StoreUnavailableError extends KizunaError {
  readonly status = 503;
  readonly code = 'store_unavailable';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
