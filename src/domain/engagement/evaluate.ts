/**
 * Evaluates one profile against its workspace's definitions: first the stage (the first stage whose rule
 * passes, the last one otherwise), then every segment in dependency order. Pure: the caller stores the
 * result and emits `Stage Entered` / `Segment Entered` / `Segment Exited` events from it.
 */
import type { JsonObject } from '../event.js';
import { ComputedTraits } from '../facts/computed.js';
import { consentFact, eventKey, seriesStats, type ProfileFacts } from '../facts/facts.js';
import { getPath } from '../rules/compare.js';
import { evaluate, explain } from '../rules/evaluate.js';
import { selectorKey } from '../rules/graph.js';
import type {
  EventSelector,
  EventStats,
  Explanation,
  IdentityPresence,
  Rule,
  RuleContext,
  Window,
} from '../rules/types.js';
import type { Definitions } from './definitions.js';

export interface EngagementState {
  stage: string | null;
  previousStage: string | null;
  stageSince: number | null;
  /** ids of the segments the profile is in, sorted */
  segments: string[];
}

export function emptyEngagement(): EngagementState {
  return { stage: null, previousStage: null, stageSince: null, segments: [] };
}

export interface ProfileInput {
  readonly userId: string | null;
  readonly traits: JsonObject;
  readonly facts: ProfileFacts;
  readonly engagement: EngagementState;
}

export interface StageChange {
  readonly from: string | null;
  readonly to: string;
  /** why, in words: the rule of the stage entered (or "no other stage matched") */
  readonly reason: string;
}

export interface Evaluation {
  readonly engagement: EngagementState;
  readonly stageChange: StageChange | null;
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  /**
   * Whether the profile must be written: a stage or membership change, or a membership of a segment
   * deleted since the last evaluation leaving silently.
   */
  readonly changed: boolean;
}

/**
 * Whether a profile may be profiled, from the consent state its facts keep: not when its `profiling`
 * consent is withdrawn, nor — where the workspace requires profiling consent — when it is not granted.
 */
export function mayProfile(facts: ProfileFacts, profilingRequired: boolean): boolean {
  const state = consentFact(facts, 'profiling');
  return profilingRequired ? state === 'granted' : state !== 'withdrawn';
}

class ProfileContext implements RuleContext {
  readonly computedTraits: ComputedTraits;
  /** whether segments that require profiling may hold this profile */
  readonly profilable: boolean;
  stageNow: string | null;
  previous: string | null;
  readonly members = new Set<string>();

  constructor(
    private readonly p: ProfileInput,
    defs: Definitions,
    readonly now: number,
  ) {
    this.computedTraits = new ComputedTraits(
      p.facts,
      defs.computed,
      defs.rfm,
      now,
      p.engagement.stageSince,
      defs.ltv,
    );
    this.stageNow = p.engagement.stage;
    this.previous = p.engagement.previousStage;
    this.profilable = mayProfile(p.facts, defs.profilingRequired);
  }

  /** A segment's rule holds, and the profile may be in it (a profiling segment needs consent). */
  member(seg: { readonly rule: Rule; readonly requiresProfiling: boolean }): boolean {
    return (this.profilable || !seg.requiresProfiling) && evaluate(seg.rule, this);
  }

  trait(path: string): unknown {
    return getPath(this.p.traits, path);
  }
  computed(name: string): unknown {
    return this.computedTraits.get(name);
  }
  hasIdentity(kind: IdentityPresence): boolean {
    if (kind === 'user_id' && this.p.userId !== null) return true;
    if (this.p.facts.k.includes(kind)) return true;
    if (kind === 'push_token') return getPath(this.p.traits, 'push_token') != null;
    return false;
  }
  /**
   * The consent ledger's current state of the purpose (its newest whole-purpose entry, kept in the
   * facts); for a customer never asked, the trait `consents.<purpose>` being true (consent collected
   * elsewhere and sent with identify).
   */
  consent(purpose: string): boolean {
    const state = consentFact(this.p.facts, purpose);
    if (state !== null) return state === 'granted';
    return getPath(this.p.traits, `consents.${purpose}`) === true;
  }
  events(selector: EventSelector, window: Window): EventStats {
    const f = this.p.facts;
    const s =
      selector.where.length > 0 ? f.s[selectorKey(selector)] : f.e[eventKey(selector.type, selector.name)];
    return seriesStats(s, window, this.now);
  }
  stage(): { current: string | null; previous: string | null } {
    return { current: this.stageNow, previous: this.previous };
  }
  inSegment(segmentId: string): boolean {
    return this.members.has(segmentId);
  }
}

/** The stage the profile belongs in and the rule that put it there (null: the catch-all last stage). */
function stageOf(ctx: ProfileContext, defs: Definitions): { name: string; rule: Rule | null } {
  for (const s of defs.stages)
    if (s.rule === null || evaluate(s.rule, ctx)) return { name: s.name, rule: s.rule };
  return { name: defs.stages[defs.stages.length - 1]?.name ?? 'unknown', rule: null };
}

export function evaluateProfile(p: ProfileInput, defs: Definitions, now: number): Evaluation {
  const ctx = new ProfileContext(p, defs, now);
  const old = p.engagement;
  let engagement: EngagementState = { ...old };
  let stageChange: StageChange | null = null;
  if (defs.stages.length > 0) {
    const next = stageOf(ctx, defs);
    if (next.name !== old.stage) {
      // The reason is put into words only on a change: explaining costs more than evaluating.
      const reason = next.rule === null ? 'no earlier stage matched' : explain(next.rule, ctx).condition;
      stageChange = { from: old.stage, to: next.name, reason };
      engagement = { ...engagement, stage: next.name, previousStage: old.stage, stageSince: now };
      ctx.previous = old.stage;
      ctx.stageNow = next.name;
    }
  }
  for (const seg of defs.segments) if (ctx.member(seg)) ctx.members.add(seg.id);
  const before = new Set(old.segments);
  const entered = [...ctx.members].filter((id) => !before.has(id));
  const exited = old.segments.filter((id) => !ctx.members.has(id) && defs.segments.some((s) => s.id === id));
  // Memberships of segments that no longer exist are dropped silently (the segment's deletion removed them).
  const segments = [...ctx.members].sort();
  engagement = { ...engagement, segments };
  const changed =
    stageChange !== null ||
    entered.length > 0 ||
    exited.length > 0 ||
    segments.length !== old.segments.length;
  return { engagement, stageChange, entered, exited, changed };
}

export interface StageExplanation {
  readonly stage: string;
  readonly stages: readonly { name: string; pass: boolean | null; explanation: Explanation | null }[];
}

/**
 * Why a profile is in its stage: every stage's rule evaluated in order, up to the one that matched.
 * Uses the profile's stored current/previous stage, as the next evaluation would.
 */
export function explainStage(p: ProfileInput, defs: Definitions, now: number): StageExplanation {
  const ctx = new ProfileContext(p, defs, now);
  const stages: { name: string; pass: boolean | null; explanation: Explanation | null }[] = [];
  let chosen: string | null = null;
  for (const s of defs.stages) {
    if (chosen !== null) {
      stages.push({ name: s.name, pass: null, explanation: null });
      continue;
    }
    if (s.rule === null) {
      stages.push({ name: s.name, pass: true, explanation: null });
      chosen = s.name;
      continue;
    }
    const e = explain(s.rule, ctx);
    stages.push({ name: s.name, pass: e.pass, explanation: e });
    if (e.pass) chosen = s.name;
  }
  return { stage: chosen ?? p.engagement.stage ?? 'unknown', stages };
}

/** Why a profile is or is not in a segment; the segments it refers to are evaluated first. */
export function explainSegment(
  p: ProfileInput,
  defs: Definitions,
  segmentId: string,
  now: number,
): Explanation | null {
  const target = defs.segments.find((s) => s.id === segmentId);
  if (!target) return null;
  const ctx = new ProfileContext(p, defs, now);
  for (const seg of defs.segments) {
    if (seg.id === segmentId) break;
    if (ctx.member(seg)) ctx.members.add(seg.id);
  }
  const rule = explain(target.rule, ctx);
  if (!target.requiresProfiling) return rule;
  // "Why not": the consent the segment needs comes first, then the rule as usual.
  const state = consentFact(p.facts, 'profiling');
  const consent: Explanation = {
    at: 'requiresProfiling',
    kind: 'consent',
    pass: ctx.profilable,
    condition: defs.profilingRequired
      ? 'has granted profiling consent (the segment requires profiling)'
      : 'has not withdrawn profiling consent (the segment requires profiling)',
    actual:
      state === 'withdrawn' ? 'consent withdrawn' : state === 'granted' ? 'consent granted' : 'not asked',
  };
  return {
    at: 'segment',
    kind: 'and',
    pass: consent.pass && rule.pass,
    condition: `${consent.condition} and ${rule.condition}`,
    children: [consent, rule],
  };
}

export function computedTraitsOf(p: ProfileInput, defs: Definitions, now: number): ComputedTraits {
  return new ComputedTraits(p.facts, defs.computed, defs.rfm, now, p.engagement.stageSince, defs.ltv);
}

/** A profile a build's pass found would change: its id, the segments it enters and those it leaves. */
export type FoundChange = readonly [id: string, entered: readonly string[], exited: readonly string[]];

/**
 * A pass's evaluation of a page of profiles, off the writer: the ids that would change, and for a build
 * (just the segments `only`) what would change for each, so that a writer that can vouch the profile
 * did not change since may store it as found (store/sqlite/profile-watch.ts). A sweep (`only` null)
 * evaluates everything and reports ids alone.
 */
export function findChanges(
  profiles: Iterable<ProfileInput & { readonly id: string }>,
  defs: Definitions,
  only: ReadonlySet<string> | null,
  now: number,
): { ids: string[]; changes: FoundChange[] } {
  const ids: string[] = [];
  const changes: FoundChange[] = [];
  // Changes alike share their lists: a build of one segment finds the same change for most profiles,
  // and a page posted between threads then carries each list once (structured clone keeps identity).
  const alike = new Map<string, readonly [readonly string[], readonly string[]]>();
  for (const p of profiles) {
    if (only === null) {
      if (evaluateProfile(p, defs, now).changed) ids.push(p.id);
      continue;
    }
    const ev = evaluateSegments(p, defs, only, now);
    if (!ev.changed) continue;
    ids.push(p.id);
    const key = JSON.stringify([ev.entered, ev.exited]);
    let lists = alike.get(key);
    if (!lists) alike.set(key, (lists = [ev.entered, ev.exited]));
    changes.push([p.id, lists[0], lists[1]]);
  }
  return { ids, changes };
}

/**
 * Whether evaluating just the segments `only` (a build of new or changed segments) would change the
 * profile's membership of any of them. The stage and every other membership are taken as stored, so a
 * build costs the new segments' rules, not the whole definition set; a profile found to change is then
 * confirmed by the writer with evaluateSegments.
 */
export function segmentsWouldChange(
  p: ProfileInput,
  defs: Definitions,
  only: ReadonlySet<string>,
  now: number,
): boolean {
  return evaluateSegments(p, defs, only, now).changed;
}

/**
 * Evaluates just the segments `only` (a build) with everything else as stored: the stage and the other
 * memberships are not re-evaluated (real-time evaluation and the sweep keep those), so a build's
 * confirmation costs the built segments' rules and nothing more. The same answer segmentsWouldChange
 * gives, with what changed.
 */
export function evaluateSegments(
  p: ProfileInput,
  defs: Definitions,
  only: ReadonlySet<string>,
  now: number,
): Evaluation {
  const ctx = new ProfileContext(p, defs, now);
  const old = p.engagement;
  for (const id of old.segments) if (!only.has(id)) ctx.members.add(id);
  const entered: string[] = [];
  const exited: string[] = [];
  for (const seg of defs.segments) {
    if (!only.has(seg.id)) continue;
    const member = ctx.member(seg);
    const was = old.segments.includes(seg.id);
    if (member) ctx.members.add(seg.id);
    if (member && !was) entered.push(seg.id);
    if (!member && was) exited.push(seg.id);
  }
  const changed = entered.length > 0 || exited.length > 0;
  const segments = changed ? [...ctx.members].sort() : old.segments;
  return { engagement: { ...old, segments }, stageChange: null, entered, exited, changed };
}

/**
 * Evaluates a rule that is not saved yet (a preview) against a profile: other segments it refers to
 * are read from the profile's stored memberships, so this costs one rule evaluation.
 */
export function evaluateDraft(p: ProfileInput, defs: Definitions, rule: Rule, now: number): boolean {
  const ctx = new ProfileContext(p, defs, now);
  for (const id of p.engagement.segments) ctx.members.add(id);
  return evaluate(rule, ctx);
}
