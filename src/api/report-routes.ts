import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import type { ReportService } from '../engine/reports.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { adminWorkspace, parse } from './params.js';
import { attributionCsv, funnelCsv, performanceCsv, retentionCsv, stageFlowCsv } from './report-csv.js';
import {
  attributionQuery,
  format,
  funnelQuery,
  performanceQuery,
  retentionQuery,
  stageFlowQuery,
} from './report-schema.js';

export interface ReportApiDeps {
  store: Store;
  auth: KeyAuth;
  clock: Clock;
  reports: ReportService;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The analytics reports (docs/reports.md): funnels and attribution take a JSON body (their steps and
 * goal carry property filters), the others a query string. Every one answers JSON, or CSV with
 * `?format=csv`.
 */
export function registerReportRoutes(app: FastifyInstance, deps: ReportApiDeps): void {
  const { reports } = deps;
  const workspace = (req: FastifyRequest) => adminWorkspace(deps.auth, req);
  const csv = (reply: FastifyReply, name: string, text: string) =>
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}.csv"`)
      .send(text);
  const formatOf = (req: FastifyRequest) => parse(z.object({ format }), req.query).format;

  app.post('/api/v1/reports/funnel', async (req, reply) => {
    const ws = await workspace(req);
    const f = formatOf(req);
    const q = funnelQuery(req.body, deps.clock.now());
    const r = await reports.funnel(ws, q);
    if (f === 'csv') return csv(reply, 'funnel', funnelCsv(r));
    return { from: iso(q.from), to: iso(q.to), windowMs: q.windowMs, ...r };
  });

  app.get('/api/v1/reports/retention', async (req, reply) => {
    const ws = await workspace(req);
    const q = retentionQuery(req.query, deps.clock.now());
    const r = await reports.retention(ws, q);
    if (q.format === 'csv') return csv(reply, 'retention', retentionCsv(r));
    return {
      from: iso(q.from),
      to: iso(q.to),
      cohort: q.anchor.kind === 'first_seen' ? 'first_seen' : 'first_purchase',
      event: q.activity,
      ...r,
      cohorts: r.cohorts.map((c) => ({ ...c, start: iso(c.start) })),
    };
  });

  app.get('/api/v1/reports/stage-flow', async (req, reply) => {
    const ws = await workspace(req);
    const q = stageFlowQuery(req.query, deps.clock.now());
    const r = await reports.stageFlow(ws, q);
    if (q.format === 'csv') return csv(reply, 'stage-flow', stageFlowCsv(r));
    return {
      from: iso(q.from),
      to: iso(q.to),
      unit: r.unit,
      periods: r.periods.map((p) => ({ ...p, start: iso(p.start), end: iso(p.end) })),
    };
  });

  app.get('/api/v1/reports/messages', async (req, reply) => {
    const ws = await workspace(req);
    const q = performanceQuery(req.query, deps.clock.now());
    const r = await reports.messagePerformance(ws, q);
    if (q.format === 'csv') return csv(reply, 'messages', performanceCsv(r));
    return { from: iso(q.from), to: iso(q.to), ...r };
  });

  app.post('/api/v1/reports/attribution', async (req, reply) => {
    const ws = await workspace(req);
    const f = formatOf(req);
    const q = attributionQuery(req.body, deps.clock.now());
    const r = await reports.attribution(ws, q);
    const names = new Map<string, string>();
    for (const c of r.campaigns) {
      if (!names.has(c.campaign))
        names.set(c.campaign, (await deps.store.getJourney(ws, c.campaign))?.name ?? c.campaign);
    }
    const campaigns = r.campaigns.map((c) => ({ ...c, name: names.get(c.campaign) ?? c.campaign }));
    if (f === 'csv') return csv(reply, 'attribution', attributionCsv({ ...r, campaigns }));
    return {
      from: iso(q.from),
      to: iso(q.to),
      goal: { event: q.goal.name, valueProperty: q.valueProperty },
      model: q.rule.model,
      afterSendMs: q.rule.afterSendMs,
      afterOpenMs: q.rule.afterEngageMs,
      ...r,
      campaigns,
    };
  });
}
