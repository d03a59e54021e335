/**
 * What a batch of customer events and engagement events (`Stage Entered`, `Segment Entered/Exited`)
 * does to journeys, decided inside the same transaction that stores them: customers enter triggered
 * journeys (subject to the entry limit and entry segment), waiting entries wake when their event
 * arrives, entries leave on their exit criteria, and goals record conversions. Deciding it there means a
 * trigger is never missed or taken twice: the event and the entry commit together or not at all, and a
 * retried event is dropped by its messageId before it gets here.
 */
import type { NormalizedEvent } from '../event.js';
import { filterMatcher } from '../engagement/definitions.js';
import type { EngagementEvent } from '../engagement/apply.js';
import type { EventSelector } from '../rules/types.js';
import type { Journey, Signal } from './types.js';

/** One published journey's current version, as triggers see it. */
export interface LiveJourney {
  readonly journeyId: string;
  readonly version: number;
  readonly journey: Journey;
}

/** An entry as routing needs it (the store returns every entry of the batch's profiles). */
export interface EntryRow {
  readonly id: string;
  readonly journeyId: string;
  readonly version: number;
  readonly profileId: string;
  readonly state: 'active' | 'completed' | 'exited';
  readonly step: string;
  readonly phase: 'enter' | 'waiting';
  readonly waitingFor: string | null;
  /** when the current step started waiting */
  readonly stepSince: number;
  readonly enteredAt: number;
  readonly convertedAt: number | null;
}

export interface NewEntry {
  readonly id: string;
  readonly journeyId: string;
  readonly version: number;
  readonly profileId: string;
  readonly step: string;
  readonly enteredAt: number;
  /** what let the customer in, in words, for their journey history */
  readonly trigger: string;
  /** the messageId of the event that let the customer in (templates read it as `event`) */
  readonly triggerMessageId: string | null;
}

export interface JourneyRouting {
  readonly enter: NewEntry[];
  readonly wake: { entryId: string; signal: Signal }[];
  readonly exit: { entryId: string; reason: string }[];
  /** `value`: the goal event's revenue (or total, or value) property, when it has one */
  readonly convert: { entryId: string; at: number; event: string; value: number | null }[];
}

export function emptyRouting(): JourneyRouting {
  return { enter: [], wake: [], exit: [], convert: [] };
}

export function routingSize(r: JourneyRouting): number {
  return r.enter.length + r.wake.length + r.exit.length + r.convert.length;
}

/**
 * Published journeys compiled for routing: triggers by event name and by engagement event, and every
 * event name any live or older version still listens for (waits, goals, exit criteria), so a batch
 * that concerns no journey costs a few map lookups.
 */
export class JourneyIndex {
  readonly byEvent = new Map<string, LiveJourney[]>();
  readonly byEngagement = new Map<string, LiveJourney[]>();
  /** event names entries may be waiting for, converting on or leaving on */
  readonly listened = new Set<string>();
  readonly exitSegments = new Set<string>();
  private readonly versions = new Map<string, Journey>();

  constructor(
    readonly version: number,
    live: readonly LiveJourney[],
    /** every version that may still have active entries (including `live`) */
    running: readonly LiveJourney[],
  ) {
    for (const j of live) {
      const t = j.journey.trigger;
      if (t.kind === 'event') push(this.byEvent, t.event.name, j);
      else if (t.kind === 'segment_entered') push(this.byEngagement, `Segment Entered:${t.segment}`, j);
      else if (t.kind === 'segment_exited') push(this.byEngagement, `Segment Exited:${t.segment}`, j);
      else if (t.kind === 'stage_entered') push(this.byEngagement, `Stage Entered:${t.stage}`, j);
    }
    for (const j of running) {
      this.versions.set(`${j.journeyId}@${j.version}`, j.journey);
      for (const s of j.journey.steps.values())
        if (s.type === 'wait_for_event') this.listened.add(s.event.name);
      if (j.journey.goal) this.listened.add(j.journey.goal.event.name);
      for (const e of j.journey.exitWhen.events) this.listened.add(e.name);
      for (const s of j.journey.exitWhen.segments) this.exitSegments.add(s);
    }
  }

  get empty(): boolean {
    return this.versions.size === 0;
  }

  journey(journeyId: string, version: number): Journey | undefined {
    return this.versions.get(`${journeyId}@${version}`);
  }

  /** Profiles of the batch whose entries routing must read; empty when the batch concerns no journey. */
  concerned(
    events: readonly { profileId: string; event: NormalizedEvent }[],
    engagement: readonly EngagementEvent[],
  ): string[] {
    if (this.empty) return [];
    const ids = new Set<string>();
    for (const { profileId, event } of events) {
      if (event.name !== null && (this.byEvent.has(event.name) || this.listened.has(event.name))) {
        ids.add(profileId);
      }
    }
    for (const e of engagement) {
      if (this.byEngagement.has(`${e.type}:${e.subject}`)) ids.add(e.profileId);
      else if (e.type === 'Segment Entered' && this.exitSegments.has(e.subject)) ids.add(e.profileId);
    }
    return [...ids].sort();
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

export interface RouteInput {
  readonly now: number;
  readonly events: readonly { profileId: string; event: NormalizedEvent }[];
  readonly engagement: readonly EngagementEvent[];
  /** the profile's segments after this batch */
  segmentsOf(profileId: string): readonly string[];
  /** every stored entry of the concerned profiles */
  readonly entries: ReadonlyMap<string, readonly EntryRow[]>;
  newEntryId(): string;
}

export function route(index: JourneyIndex, input: RouteInput): JourneyRouting {
  const out = emptyRouting();
  const { now } = input;
  const fresh = new Set<string>();
  const entriesOf = (profileId: string): EntryRow[] => [...(input.entries.get(profileId) ?? [])];
  const local = new Map<string, EntryRow[]>();
  const known = (profileId: string): EntryRow[] => {
    let l = local.get(profileId);
    if (!l) local.set(profileId, (l = entriesOf(profileId)));
    return l;
  };
  const ended = new Set<string>();

  const tryEnter = (j: LiveJourney, profileId: string, trigger: string, messageId: string | null) => {
    const mine = known(profileId).filter((e) => e.journeyId === j.journeyId);
    if (mine.some((e) => e.state === 'active' && !ended.has(e.id))) return;
    const limit = j.journey.entry.limit;
    if (limit.kind === 'once' && mine.length > 0) return;
    if (limit.kind === 'once_per_days') {
      const last = Math.max(...mine.map((e) => e.enteredAt), -Infinity);
      if (last > now - limit.days * 86_400_000) return;
    }
    const seg = j.journey.entry.segment;
    if (seg !== null && !input.segmentsOf(profileId).includes(seg)) return;
    const entry: NewEntry = {
      id: input.newEntryId(),
      journeyId: j.journeyId,
      version: j.version,
      profileId,
      step: j.journey.start,
      enteredAt: now,
      trigger,
      triggerMessageId: messageId,
    };
    out.enter.push(entry);
    fresh.add(entry.id);
    known(profileId).push({
      ...entry,
      state: 'active',
      phase: 'enter',
      waitingFor: null,
      stepSince: now,
      convertedAt: null,
    });
  };

  // Customer events in time order: waits, exits and goals of entries that existed before the batch,
  // then triggers.
  const ordered = [...input.events].sort((a, b) => a.event.timestamp - b.event.timestamp);
  for (const { profileId, event } of ordered) {
    if (event.name === null) continue;
    const props = lazyProperties(event);
    if (index.listened.has(event.name)) {
      for (const e of known(profileId)) {
        if (fresh.has(e.id) || ended.has(e.id)) continue;
        const j = index.journey(e.journeyId, e.version);
        if (!j) continue;
        if (
          e.state === 'active' &&
          event.timestamp >= e.enteredAt &&
          j.exitWhen.events.some((s) => matches(s, event, props))
        ) {
          out.exit.push({ entryId: e.id, reason: `exit criteria: ${event.name}` });
          ended.add(e.id);
        } else if (
          e.state === 'active' &&
          e.phase === 'waiting' &&
          e.waitingFor === event.name &&
          event.timestamp >= e.stepSince
        ) {
          const step = j.steps.get(e.step);
          if (step?.type === 'wait_for_event' && matches(step.event, event, props)) {
            out.wake.push({
              entryId: e.id,
              signal: { event: event.name, messageId: event.messageId, at: event.timestamp },
            });
            ended.add(e.id); // one wake per wait
          }
        }
        const goal = j.goal;
        if (
          goal &&
          e.convertedAt === null &&
          !out.convert.some((c) => c.entryId === e.id) &&
          event.timestamp >= e.enteredAt &&
          event.timestamp <= e.enteredAt + goal.withinMs &&
          matches(goal.event, event, props)
        ) {
          out.convert.push({
            entryId: e.id,
            at: event.timestamp,
            event: event.name,
            value: goalValue(props()),
          });
        }
      }
    }
    for (const j of index.byEvent.get(event.name) ?? []) {
      if (matches((j.journey.trigger as { event: EventSelector }).event, event, props)) {
        tryEnter(j, profileId, `performed ${event.name}`, event.messageId);
      }
    }
  }

  for (const e of input.engagement) {
    if (e.type === 'Segment Entered' && index.exitSegments.has(e.subject)) {
      for (const entry of known(e.profileId)) {
        if (entry.state !== 'active' || fresh.has(entry.id) || ended.has(entry.id)) continue;
        const j = index.journey(entry.journeyId, entry.version);
        if (j?.exitWhen.segments.includes(e.subject)) {
          out.exit.push({ entryId: entry.id, reason: `exit criteria: entered segment ${e.subject}` });
          ended.add(entry.id);
        }
      }
    }
    for (const j of index.byEngagement.get(`${e.type}:${e.subject}`) ?? []) {
      const what =
        e.type === 'Stage Entered'
          ? `entered stage ${e.subject}`
          : `${e.type === 'Segment Entered' ? 'entered' : 'left'} segment ${e.subject}`;
      tryEnter(j, e.profileId, what, null);
    }
  }
  return out;
}

/** Property filters with relative dates count from the event's own time, as segment facts do. */
function matches(sel: EventSelector, event: NormalizedEvent, props: () => unknown): boolean {
  if (event.type !== sel.type || event.name !== sel.name) return false;
  return sel.where.length === 0 || filterMatcher(sel.where)(props(), event.timestamp);
}

/** A conversion's value: the e-commerce spec's `revenue`, else `total`, else `value`, when a finite number. */
export function goalValue(props: unknown): number | null {
  if (typeof props !== 'object' || props === null) return null;
  const p = props as Record<string, unknown>;
  for (const k of ['revenue', 'total', 'value']) {
    const v = p[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return null;
}

function lazyProperties(event: NormalizedEvent): () => unknown {
  let parsed = false;
  let props: unknown;
  return () => {
    if (!parsed) {
      parsed = true;
      props = (JSON.parse(event.payload) as Record<string, unknown>)['properties'];
    }
    return props;
  };
}
