import pg from 'pg';
import { StoreUnavailableError } from '../../errors.js';
import { codeOf, isRetryable } from './pg-errors.js';

/**
 * The little of the `pg` driver this adapter uses, behind one interface: run a statement, get rows.
 * int8 comes back as a JS number (epoch ms, counters and event ids stay far below 2^53) and jsonb as
 * parsed values. Nothing outside this folder sees a pool, a client or a driver type.
 */
export interface Sql {
  query<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** Runs a named statement: prepared once per connection, so the server parses it once and can reuse its plan. */
  run<R>(statement: NamedStatement, args: Readonly<Record<string, unknown>>): Promise<R[]>;
  /**
   * Runs a statement with named parameters unprepared: planned anew for its arguments and the
   * table's current size every time. For statements whose best plan depends on table size (a join
   * that deletes by key) or that run rarely enough that planning costs nothing.
   */
  once<R>(statement: NamedStatement, args: Readonly<Record<string, unknown>>): Promise<R[]>;
}

/**
 * A statement with named parameters (`:ws`, `:ids::text[]`), numbered once at load time. Only for
 * fixed text (each name becomes a prepared statement on every connection of the pool), and with no
 * `:word` inside string literals.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  readonly params: readonly string[];
}

export function named(name: string, text: string): NamedStatement {
  const params: string[] = [];
  const numbered = text.replace(/(?<!:):([a-z][a-z0-9_]*)/g, (_, param: string) => {
    const at = params.indexOf(param);
    return `$${at >= 0 ? at + 1 : params.push(param)}`;
  });
  return { name, text: numbered, params };
}

function bind(statement: NamedStatement, args: Readonly<Record<string, unknown>>): unknown[] {
  return statement.params.map((p) => {
    if (!(p in args)) throw new Error(`statement ${statement.name} needs :${p}`);
    return args[p];
  });
}

const INT8_OID = 20;

export interface PoolOptions {
  readonly url: string;
  readonly size: number;
}

export function createPool(opts: PoolOptions): pg.Pool {
  // Per-pool type parsers: the driver's global `types` registry is shared with every other pg user
  // in the process, so it is left alone.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, 'text', Number);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.size,
    types,
    application_name: 'kizuna',
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose connection dropped (server restart, network) is removed by the pool; the
  // next query opens a new one. Without a listener the event would crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export function sqlOf(db: pg.Pool | pg.PoolClient): Sql {
  return {
    query: async <R>(text: string, values?: readonly unknown[]): Promise<R[]> =>
      (await db.query(text, values as unknown[] | undefined)).rows as R[],
    run: async <R>(statement: NamedStatement, args: Readonly<Record<string, unknown>>): Promise<R[]> =>
      (await db.query({ name: statement.name, text: statement.text, values: bind(statement, args) }))
        .rows as R[],
    once: async <R>(statement: NamedStatement, args: Readonly<Record<string, unknown>>): Promise<R[]> =>
      (await db.query(statement.text, bind(statement, args))).rows as R[],
  };
}

export interface RetryPolicy {
  /** total tries, the first included. */
  readonly attempts: number;
  /** upper bound of the random pause before the n-th retry is n × this, in ms. */
  readonly jitterMs: number;
}

/**
 * Runs `fn` in one READ COMMITTED transaction on a pooled client: COMMIT when it resolves, ROLLBACK
 * when it throws. With a retry policy, a retryable failure (see `isRetryable`) rolls back and runs
 * `fn` again from scratch in a new transaction after a short random pause; when the tries run out,
 * StoreUnavailableError. `fn` must therefore keep no state across calls.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (sql: Sql) => Promise<T>,
  retry?: RetryPolicy,
): Promise<T> {
  const attempts = retry?.attempts ?? 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(pool, fn);
    } catch (err) {
      if (!retry || !isRetryable(err)) throw err;
      if (attempt >= attempts) {
        throw new StoreUnavailableError(`gave up after ${attempts} conflicting concurrent writes`, {
          cause: err,
        });
      }
      // A unique violation is raised once the other writer has committed: re-run at once. Lock
      // conflicts get a growing random pause so the racers fall out of step.
      if (codeOf(err) !== '23505') await sleep(Math.random() * retry.jitterMs * attempt);
    }
  }
}

async function once<T>(pool: pg.Pool, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(sqlOf(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // The connection is gone (the server dropped the transaction with it): discard the client.
      broken = true;
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
