import type { Clock } from '../../domain/clock.js';
import { compileDefinitions } from '../../domain/engagement/definitions.js';
import { computedTraitsOf } from '../../domain/engagement/evaluate.js';
import { eventKey } from '../../domain/facts/facts.js';
import { npsReport, type NpsReport, type Period, type Respondent } from '../../domain/surveys/report.js';
import type { Survey } from '../../domain/surveys/survey.js';
import { ValidationError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { SurveyResponse } from '../../store/survey-store.js';

const PAGE = 5000;
const ORDER_KEY = eventKey('track', 'Order Completed');

const numberOr0 = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** What a respondent did, from their facts. */
export interface Behaviour {
  /** the canonical profile id */
  readonly id: string;
  readonly revenue365: number;
  readonly purchases365: number;
  readonly stage: string | null;
  readonly segments: readonly string[];
  readonly purchaseDays: readonly number[];
}

/** Every answer of a survey, a page at a time. */
export async function* allResponses(
  store: Store,
  ws: string,
  surveyId: string,
): AsyncGenerator<SurveyResponse> {
  let after: { profileId: string; questionId: string } | undefined;
  for (;;) {
    const page = await store.listSurveyResponses(ws, surveyId, { limit: PAGE, ...(after && { after }) });
    yield* page;
    if (page.length < PAGE) return;
    const last = page[page.length - 1]!;
    after = { profileId: last.profileId, questionId: last.questionId };
  }
}

/**
 * The 12-month spend and purchases of profiles (computed traits revenue_365d and purchases_365d, at
 * `now`), with their stage, segments and purchase days, keyed by the id asked for; ids merged away
 * resolve to their survivor.
 */
export async function behaviourOf(
  store: Store,
  ws: string,
  ids: readonly string[],
  now: number,
): Promise<Map<string, Behaviour>> {
  const defs = compileDefinitions(await store.getDefinitions(ws));
  const out = new Map<string, Behaviour>();
  for (let i = 0; i < ids.length; i += 1000) {
    const states = await store.getProfileStates(ws, ids.slice(i, i + 1000));
    for (const [asked, p] of states) {
      const computed = computedTraitsOf(p, defs, now);
      out.set(asked, {
        id: p.id,
        revenue365: numberOr0(computed.get('revenue_365d')),
        purchases365: numberOr0(computed.get('purchases_365d')),
        stage: p.engagement.stage,
        segments: [...p.engagement.segments],
        purchaseDays: (p.facts.e[ORDER_KEY]?.d ?? []).filter((_, i) => i % 2 === 0),
      });
    }
  }
  return out;
}

/**
 * The NPS report of a survey (docs/surveys.md#reports): its first NPS question, and its referrals
 * question when it has one. A customer whose answers were given under two profiles that later merged
 * counts once, with the latest NPS answer.
 */
export async function surveyNpsReport(
  store: Store,
  clock: Clock,
  ws: string,
  survey: Survey,
  opts: { period: Period; retentionDays: number },
): Promise<NpsReport & { question: string; segmentNames: Record<string, string> }> {
  const question = survey.questions.find((q) => q.kind === 'nps');
  if (!question)
    throw new ValidationError([{ field: 'id', rule: `survey ${survey.id} has no NPS question` }]);
  const referralsQ = survey.questions.find((q) => q.role === 'referrals')?.id ?? null;
  const byProfile = new Map<string, { score: number | null; answeredAt: number; referrals: number | null }>();
  for await (const a of allResponses(store, ws, survey.id)) {
    const r = byProfile.get(a.profileId) ?? { score: null, answeredAt: 0, referrals: null };
    if (a.questionId === question.id && a.score !== null) {
      r.score = a.score;
      r.answeredAt = a.answeredAt;
    } else if (a.questionId === referralsQ && a.score !== null) r.referrals = a.score;
    byProfile.set(a.profileId, r);
  }
  const now = clock.now();
  const ids = [...byProfile].filter(([, r]) => r.score !== null).map(([id]) => id);
  const behaviour = await behaviourOf(store, ws, ids, now);
  const rows = new Map<string, Respondent>();
  for (const id of ids) {
    const r = byProfile.get(id)!;
    const b = behaviour.get(id);
    if (!b) continue; // erased
    const earlier = rows.get(b.id);
    if (earlier && earlier.answeredAt > r.answeredAt) continue;
    rows.set(b.id, {
      profileId: b.id,
      score: r.score!,
      answeredAt: r.answeredAt,
      stage: b.stage,
      segments: b.segments,
      revenue365: b.revenue365,
      purchases365: b.purchases365,
      purchaseDays: b.purchaseDays,
      referrals: r.referrals ?? earlier?.referrals ?? null,
    });
  }
  const report = npsReport([...rows.values()], {
    now,
    period: opts.period,
    retentionDays: opts.retentionDays,
  });
  const names = new Map((await store.listSegments(ws)).map((s) => [s.id, s.name]));
  const segmentNames: Record<string, string> = {};
  for (const s of report.bySegment) segmentNames[s.segment] = names.get(s.segment) ?? s.segment;
  return { ...report, question: question.id, segmentNames };
}
