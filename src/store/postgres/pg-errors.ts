import { KizunaError, StoreUnavailableError } from '../../errors.js';

// How this adapter reads the driver's and the server's errors: which mean "run the unit again" and
// which mean "the database is unavailable" (503).

/**
 * Something read before a lock was granted turned out stale (a locked profile merged away by a
 * concurrent writer, or the definitions changed meanwhile): the unit must start over.
 */
export class StaleReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaleReadError';
  }
}

/** The SQLSTATE of a server error, or the system error code of a socket failure. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  return typeof code === 'string' ? code : undefined;
}

// serialization_failure, deadlock_detected, unique_violation (two writers inserting the same
// messageId or identity: on retry the loser sees the winner's row).
const RETRYABLE = new Set(['40001', '40P01', '23505']);

/** Errors after which running the whole unit of work again, in a new transaction, can succeed. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StaleReadError) return true;
  const code = codeOf(err);
  return code !== undefined && RETRYABLE.has(code);
}

// Socket-level failures, and SQLSTATEs for a server that is down, starting, shutting down, full or
// out of connections/locks/disk.
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53100',
  '53200',
  '53300',
  '58030',
]);
const DRIVER_UNAVAILABLE = /Connection terminated|timeout exceeded when trying to connect|not queryable/;

export function isUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) return UNAVAILABLE.has(code) || code.startsWith('08');
  return err instanceof Error && DRIVER_UNAVAILABLE.test(err.message);
}

/** The unique constraint a unique_violation names, if `err` is one. */
export function violatedConstraint(err: unknown): string | null {
  if (codeOf(err) !== '23505') return null;
  const c = (err as { constraint?: unknown }).constraint;
  return typeof c === 'string' ? c : null;
}

/**
 * Runs `work`, turning "the database cannot be reached or is out of resources" into
 * StoreUnavailableError (503); Kizuna's own errors and bugs pass through unchanged.
 */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof KizunaError) && isUnavailable(err)) {
      throw new StoreUnavailableError(`PostgreSQL is unavailable: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
}
