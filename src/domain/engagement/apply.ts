/**
 * Brings touched profiles' facts and engagement up to date after identity resolution, and turns the
 * changes into the engagement events journeys trigger on (`Stage Entered`, `Segment Entered`,
 * `Segment Exited`), kept in their own stream beside the customer's events.
 * Shared by ingestion and by re-evaluation (time passing, a definition being built).
 */
import type { NormalizedEvent } from '../event.js';
import type { ProfileState } from '../resolution.js';
import { addIdentityKind, pruneFacts, recordEvent, type FactEvent } from '../facts/facts.js';
import type { Definitions } from './definitions.js';
import { evaluateProfile, evaluateSegments, type StageChange } from './evaluate.js';

export interface EngagementChange {
  readonly profileId: string;
  readonly stageChange: StageChange | null;
  readonly entered: readonly string[];
  readonly exited: readonly string[];
}

/** An event as facts see it, parsing the stored payload only if a filter or aggregate needs properties. */
export function factEvent(e: {
  readonly type: string;
  readonly name: string | null;
  readonly timestamp: number;
  /** the stored message: JSON text, or (PostgreSQL) already parsed */
  readonly payload: string | Record<string, unknown>;
}): FactEvent {
  let props: unknown;
  let parsed = false;
  return {
    type: e.type,
    name: e.name,
    timestamp: e.timestamp,
    properties() {
      if (!parsed) {
        parsed = true;
        const msg =
          typeof e.payload === 'string' ? (JSON.parse(e.payload) as Record<string, unknown>) : e.payload;
        props = msg['properties'];
      }
      return props;
    },
  };
}

/** Records a resolved batch into its profiles' facts (in place). */
export function recordBatch(
  events: readonly NormalizedEvent[],
  assignments: readonly string[],
  newIdentities: readonly { key: { kind: string }; profileId: string }[],
  profiles: ReadonlyMap<string, ProfileState>,
  defs: Definitions,
): void {
  for (const ni of newIdentities) {
    const p = profiles.get(ni.profileId);
    if (p) addIdentityKind(p.facts, ni.key.kind);
  }
  events.forEach((e, i) => {
    const p = profiles.get(assignments[i]!);
    if (p) recordEvent(p.facts, factEvent(e), defs.factPlan);
  });
}

/**
 * Re-evaluates `profiles` in place (facts pruned, engagement replaced) and returns what changed;
 * `pruned` collects the ids of those whose facts pruning changed.
 */
export function reevaluate(
  profiles: Iterable<ProfileState>,
  defs: Definitions,
  now: number,
  pruned?: Set<string>,
): EngagementChange[] {
  const changes: EngagementChange[] = [];
  for (const p of profiles) {
    if (pruneFacts(p.facts, now)) pruned?.add(p.id);
    const ev = evaluateProfile(p, defs, now);
    p.engagement = ev.engagement;
    if (ev.changed)
      changes.push({ profileId: p.id, stageChange: ev.stageChange, entered: ev.entered, exited: ev.exited });
  }
  return changes;
}

/**
 * A build's confirmation: re-evaluates just the segments `only` of `profiles` in place (their facts are
 * neither pruned nor rewritten, the stage and other memberships stay as stored) and returns what changed.
 */
export function reevaluateSegments(
  profiles: Iterable<ProfileState>,
  defs: Definitions,
  only: ReadonlySet<string>,
  now: number,
): EngagementChange[] {
  const changes: EngagementChange[] = [];
  for (const p of profiles) {
    const ev = evaluateSegments(p, defs, only, now);
    if (!ev.changed) continue;
    p.engagement = ev.engagement;
    changes.push({ profileId: p.id, stageChange: null, entered: ev.entered, exited: ev.exited });
  }
  return changes;
}

/** One entry of a workspace's engagement event stream, the events journeys trigger on. */
export interface EngagementEvent {
  readonly profileId: string;
  readonly at: number;
  readonly type: 'Stage Entered' | 'Segment Entered' | 'Segment Exited';
  /** the stage name or the segment id */
  readonly subject: string;
  readonly properties: Record<string, unknown>;
}

/**
 * The engagement events a set of changes emits. Segments still being built emit nothing: their first
 * members come from history, not from something the customer just did.
 */
export function engagementEvents(
  changes: readonly EngagementChange[],
  defs: Definitions,
  now: number,
): EngagementEvent[] {
  const out: EngagementEvent[] = [];
  const names = new Map(defs.segments.map((s) => [s.id, s.name]));
  const quiet = new Set(defs.segments.filter((s) => s.status === 'building').map((s) => s.id));
  for (const c of changes) {
    if (c.stageChange)
      out.push({
        profileId: c.profileId,
        at: now,
        type: 'Stage Entered',
        subject: c.stageChange.to,
        properties: {
          stage: c.stageChange.to,
          previous_stage: c.stageChange.from,
          reason: c.stageChange.reason,
        },
      });
    const seg = (type: 'Segment Entered' | 'Segment Exited', id: string) => {
      if (!quiet.has(id))
        out.push({
          profileId: c.profileId,
          at: now,
          type,
          subject: id,
          properties: { segment_id: id, segment_name: names.get(id) ?? null },
        });
    };
    for (const id of c.entered) seg('Segment Entered', id);
    for (const id of c.exited) seg('Segment Exited', id);
  }
  return out;
}
