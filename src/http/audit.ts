import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { principalOrNull } from '../access/principal.js';
import { ruleOf } from '../api/route-permissions.js';
import type { Clock } from '../domain/clock.js';
import type { AuditEntry } from '../store/access-store.js';
import type { Store } from '../store/store.js';

const FLUSH_MS = 200;
const FLUSH_AT = 500;
/** What is kept in memory when the store cannot take entries; past it the oldest are dropped (and logged). */
const BUFFER_MAX = 50_000;

/**
 * The audit log's writer: entries are collected after the response is sent and appended in batches
 * (at most 200 ms or 500 entries apart), so a request never waits for the audit write. `flush()` is
 * awaited on close, so a clean shutdown loses nothing; readers of the log flush first.
 */
export class AuditLog {
  private buffer: AuditEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly logger: FastifyBaseLogger,
  ) {}

  add(e: AuditEntry): void {
    this.buffer.push(e);
    if (this.buffer.length >= FLUSH_AT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes everything added so far; resolves when it is stored (failures are logged and kept for the next flush). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const next = this.flushing.then(async () => {
      const batch = this.buffer;
      this.buffer = [];
      if (batch.length === 0) return;
      try {
        await this.store.appendAudit(batch);
      } catch (err) {
        this.buffer = [...batch, ...this.buffer];
        const over = this.buffer.length - BUFFER_MAX;
        if (over > 0) this.buffer.splice(0, over);
        this.logger.error(
          { err, kept: this.buffer.length, dropped: Math.max(over, 0) },
          'audit log write failed',
        );
        this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS * 5).unref();
      }
    });
    this.flushing = next;
    return next;
  }
}

const RESOURCE_NAMES: Readonly<Record<string, string>> = {
  catalog: 'catalog_item',
  'delivery-settings': 'setting',
  'sdk-settings': 'setting',
  settings: 'setting',
  'subscription-topics': 'setting',
  stages: 'setting',
  ltv: 'setting',
  me: 'session',
};

/** `/api/v1/segments/:id/members` → segment; exceptions in RESOURCE_NAMES; else drop the plural s. */
export function resourceTypeOf(url: string): string {
  const first = url.split('/')[3] ?? '';
  const named = RESOURCE_NAMES[first];
  if (named) return named;
  return (first.endsWith('s') ? first.slice(0, -1) : first).replace(/-/g, '_');
}

function resourceIdOf(req: FastifyRequest, payload: unknown): string | null {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const fromPath = params['id'] ?? params['name'] ?? params['channel'] ?? params['key'] ?? params['list'];
  if (fromPath !== undefined) return fromPath;
  // A creation (or a lookup) names its resource in the answer; large answers (searches) are not
  // parsed for it, so auditing a search costs no second parse of its whole body.
  if (typeof payload === 'string' && payload.length <= 65_536 && payload.startsWith('{')) {
    try {
      const body = JSON.parse(payload) as Record<string, unknown>;
      const id = body['id'] ?? body['name'];
      if (typeof id === 'string') return id;
    } catch {
      // not JSON after all: no id
    }
  }
  return null;
}

/**
 * Records every /api/v1 change (any method but GET and HEAD) and every read of customer data (GETs
 * that need profiles.read or profiles.export) made by an authenticated caller, with its outcome.
 */
export function registerAuditHooks(app: FastifyInstance, deps: { log: AuditLog; clock: Clock }): void {
  const ids = new WeakMap<FastifyRequest, string | null>();
  const audited = (req: FastifyRequest): boolean => {
    const url = req.routeOptions.url;
    if (url === undefined || !url.startsWith('/api/v1/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return true;
    const rule = ruleOf(req.method, url);
    return rule === 'profiles.read' || rule === 'profiles.export';
  };
  app.addHook('onSend', async (req, _reply, payload) => {
    if (audited(req)) ids.set(req, resourceIdOf(req, payload));
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const p = principalOrNull(req);
    if (!p || !audited(req)) return;
    const url = req.routeOptions.url ?? req.url;
    const ua = req.headers['user-agent'];
    deps.log.add({
      workspaceId: p.workspaceId,
      at: deps.clock.now(),
      actorType: p.type,
      actorId: p.id,
      actorName: p.type === 'user' ? p.email : p.name,
      action: `${req.method} ${url}`,
      resourceType: resourceTypeOf(url),
      resourceId: ids.get(req) ?? resourceIdOf(req, null),
      status: reply.statusCode,
      ip: req.ip,
      userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    });
  });
  app.addHook('onClose', () => deps.log.flush());
}
