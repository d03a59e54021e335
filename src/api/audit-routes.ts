import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { KeyAuth } from '../http/auth.js';
import type { AuditLog } from '../http/audit.js';
import type { AuditRecord } from '../store/access-store.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, limit, parse } from './params.js';

const time = (field: string) =>
  z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), { error: `must be an ISO 8601 time (${field})` })
    .transform((v) => Date.parse(v))
    .optional();

const auditQuery = z.object({
  actor: z.string().min(1, { error: 'must not be empty' }).optional(),
  resource: z.string().min(1, { error: 'must not be empty' }).optional(),
  resourceId: z.string().min(1, { error: 'must not be empty' }).optional(),
  from: time('inclusive'),
  to: time('exclusive'),
  before: z.coerce
    .number({ error: 'must be the `next` of the previous page' })
    .int({ error: 'must be the `next` of the previous page' })
    .positive({ error: 'must be the `next` of the previous page' })
    .optional(),
  limit: limit(1000, 100),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
});

function auditJson(r: AuditRecord) {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: { type: r.actorType, id: r.actorId, name: r.actorName },
    action: r.action,
    resource: { type: r.resourceType, id: r.resourceId },
    status: r.status,
    ip: r.ip,
    userAgent: r.userAgent,
  };
}

const CSV_COLUMNS = [
  'id',
  'at',
  'actor_type',
  'actor_id',
  'actor_name',
  'action',
  'resource_type',
  'resource_id',
  'status',
  'ip',
  'user_agent',
];

/** A CSV field, quoted when needed; a leading = + - @ is prefixed with ' so spreadsheets do not run it. */
function csvField(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The audit log (settings.admin): newest first, filtered, paged by `before`; `format=csv` for a file. */
export function registerAuditRoutes(
  app: FastifyInstance,
  deps: { store: Store; auth: KeyAuth; log: AuditLog },
): void {
  app.get('/api/v1/audit', async (req, reply) => {
    const ws = await adminWorkspace(deps.auth, req);
    const q = parse(auditQuery, req.query);
    // What this process has collected but not yet written is part of the log too.
    await deps.log.flush();
    const rows = await deps.store.listAudit(ws, {
      limit: q.limit,
      ...(q.actor !== undefined && { actorId: q.actor }),
      ...(q.resource !== undefined && { resourceType: q.resource }),
      ...(q.resourceId !== undefined && { resourceId: q.resourceId }),
      ...(q.from !== undefined && { from: q.from }),
      ...(q.to !== undefined && { to: q.to }),
      ...(q.before !== undefined && { before: q.before }),
    });
    const next = rows.length === q.limit ? rows[rows.length - 1]!.id : null;
    if (q.format === 'csv') {
      const lines = rows.map((r) =>
        [
          r.id,
          new Date(r.at).toISOString(),
          r.actorType,
          r.actorId,
          r.actorName,
          r.action,
          r.resourceType,
          r.resourceId,
          r.status,
          r.ip,
          r.userAgent,
        ]
          .map(csvField)
          .join(','),
      );
      if (next !== null) void reply.header('x-next-before', String(next));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit.csv"')
        .send(`${[CSV_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`);
    }
    return { entries: rows.map(auditJson), next };
  });
}
