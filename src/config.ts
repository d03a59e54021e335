import { resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError } from './errors.js';

/**
 * Settings, parsed and validated once at start-up from flags and the environment (flags win).
 * Nothing else in Kizuna reads process.env.
 */
export interface Config {
  port: number;
  host: string;
  /** SQLite lives in `<dataDir>/kizuna.db` unless `databaseUrl` selects PostgreSQL. */
  dataDir: string;
  databaseUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logRequests: boolean;
  /** behind a load balancer: take the client address from X-Forwarded-For (context.ip). */
  trustProxy: boolean;
  /** how often stages and time-based segments are re-evaluated with no event; 0 turns it off */
  sweepIntervalMinutes: number;
  /** whether `kizuna start` also runs the journey runner (`kizuna worker` runs only the runner) */
  runJourneys: boolean;
  /** whether `kizuna start` also delivers queued messages (`kizuna worker` runs the dispatcher too) */
  runDelivery: boolean;
  /**
   * base64 of the 32-byte key that encrypts provider credentials; null: a key file in the data
   * directory (created on first start). Processes sharing a PostgreSQL database must share one key.
   */
  secretKey: string | null;
  /** where customers reach this server: the base of unsubscribe links in messages */
  publicUrl: string;
  /** admin API requests per second per key (0: no limit) and the burst a quiet key may send */
  keyRateLimit: number;
  keyRateBurst: number;
}

const schema = z.object({
  port: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be 0–65535' })
    .max(65535, { error: 'must be 0–65535' }),
  host: z.string().min(1),
  dataDir: z.string().min(1, { error: 'must not be empty' }),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' })
    .nullable(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'must be one of fatal, error, warn, info, debug, trace, silent',
  }),
  logRequests: z.boolean(),
  trustProxy: z.boolean(),
  sweepIntervalMinutes: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be 0 (off) or more minutes' })
    .max(10080, { error: 'must be at most 10080 (a week)' }),
  runJourneys: z.enum(['on', 'off'], { error: 'must be on or off' }).transform((v) => v === 'on'),
  runDelivery: z.enum(['on', 'off'], { error: 'must be on or off' }).transform((v) => v === 'on'),
  secretKey: z
    .string()
    .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
      error: 'must be 32 random bytes in base64 (openssl rand -base64 32)',
    })
    .nullable(),
  keyRateLimit: z.coerce
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be 0 (off) or more requests per second' })
    .max(100_000, { error: 'must be at most 100000' }),
  keyRateBurst: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be at least 1' })
    .max(1_000_000, { error: 'must be at most 1000000' }),
  publicUrl: z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    error: 'must be an http:// or https:// URL with no query',
  }),
});

const FIELD_NAMES: Record<string, string> = {
  port: '--port / PORT',
  host: '--host / HOST',
  dataDir: '--data / KIZUNA_DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  logLevel: 'LOG_LEVEL',
  sweepIntervalMinutes: 'KIZUNA_SWEEP_INTERVAL_MINUTES',
  runJourneys: 'KIZUNA_JOURNEY_RUNNER',
  runDelivery: 'KIZUNA_DELIVERY',
  secretKey: 'KIZUNA_SECRET_KEY',
  publicUrl: 'KIZUNA_PUBLIC_URL',
  keyRateLimit: 'KIZUNA_KEY_RATE_LIMIT',
  keyRateBurst: 'KIZUNA_KEY_RATE_BURST',
};

export function loadConfig(
  env: Record<string, string | undefined>,
  flags: { port?: string | number | undefined; host?: string | undefined; data?: string | undefined } = {},
): Config {
  const r = schema.safeParse({
    port: flags.port ?? env['PORT'] ?? 3000,
    host: flags.host ?? env['HOST'] ?? 'localhost',
    dataDir: flags.data ?? env['KIZUNA_DATA_DIR'] ?? './.kizuna',
    databaseUrl: env['DATABASE_URL'] || null,
    logLevel: env['LOG_LEVEL'] ?? 'info',
    logRequests: env['KIZUNA_LOG_REQUESTS'] === '1' || env['KIZUNA_LOG_REQUESTS'] === 'true',
    trustProxy: env['KIZUNA_TRUST_PROXY'] === '1' || env['KIZUNA_TRUST_PROXY'] === 'true',
    sweepIntervalMinutes: env['KIZUNA_SWEEP_INTERVAL_MINUTES'] ?? 60,
    runJourneys: env['KIZUNA_JOURNEY_RUNNER'] ?? 'on',
    runDelivery: env['KIZUNA_DELIVERY'] ?? 'on',
    secretKey: env['KIZUNA_SECRET_KEY'] || null,
    keyRateLimit: env['KIZUNA_KEY_RATE_LIMIT'] ?? 50,
    keyRateBurst: env['KIZUNA_KEY_RATE_BURST'] ?? 200,
    publicUrl:
      env['KIZUNA_PUBLIC_URL'] ||
      `http://${flags.host ?? env['HOST'] ?? 'localhost'}:${flags.port ?? env['PORT'] ?? 3000}`,
  });
  if (!r.success) {
    throw new ValidationError(
      r.error.issues.map((i) => ({
        field: FIELD_NAMES[String(i.path[0])] ?? String(i.path[0]),
        rule: i.message,
      })),
    );
  }
  return { ...r.data, dataDir: resolve(r.data.dataDir) };
}
