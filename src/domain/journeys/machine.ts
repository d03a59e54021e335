/**
 * The journey state machine: moves one customer's entry forward from where it stands until it has to
 * wait (a delay, a wait for an event) or ends. Pure: the runner loads the entry and the profile,
 * calls `advance`, and stores the new position, the step history and the side effects in one
 * transaction. Every side effect carries an idempotency key (entry + step + step count), and every
 * choice (an A/B draw) is a function of the entry, so running a step again after a crash chooses and
 * keys exactly as the first run did.
 */
import type { JsonObject } from '../event.js';
import type { Rule } from '../rules/types.js';
import { isTimeZone, nextLocalTime } from './time.js';
import type { EntryState, Journey, Position, Step, StepType } from './types.js';

export interface StepContext {
  readonly now: number;
  readonly entryId: string;
  /** the customer's profile still exists (an erased or unknown profile leaves the journey) */
  exists(): boolean;
  /** a segment rule (condition and branch steps) against the customer's current profile */
  evaluate(rule: Rule): boolean;
  inSegment(segmentId: string): boolean;
  /** the customer's own time zone (trait `timezone`), if any */
  timezone(): string | null;
}

export type Action =
  | {
      kind: 'send';
      key: string;
      step: string;
      channel: string;
      template: string;
      priority: 'high' | 'normal' | 'low';
      quietHours: 'hold' | 'drop' | 'ignore';
    }
  | { kind: 'update_profile'; key: string; step: string; traits: JsonObject }
  | { kind: 'webhook'; key: string; step: string; url: string; body: JsonObject | null }
  | { kind: 'list'; key: string; step: string; op: 'add' | 'remove'; list: string };

export interface StepRecord {
  readonly step: string;
  readonly type: StepType;
  readonly at: number;
  /** what happened, for the customer's journey history: "sent", "then", "variant A", "timeout", ... */
  readonly outcome: string;
}

export interface Advance {
  readonly state: EntryState;
  /** where the entry stands now (the last step when it ended) */
  readonly position: Position;
  /** when the runner should look at it again; null once it ended */
  readonly dueAt: number | null;
  /** the event a wait_for_event step listens for */
  readonly waitingFor: string | null;
  readonly exitReason: string | null;
  readonly log: readonly StepRecord[];
  readonly actions: readonly Action[];
  /** the variant a split step drew in this run (null: none ran); the store keeps an entry's first */
  readonly arm: string | null;
}

export function advance(journey: Journey, from: Position, ctx: StepContext): Advance {
  const log: StepRecord[] = [];
  const actions: Action[] = [];
  let pos = from;
  let arm: string | null = null;
  const end = (state: EntryState, reason: string | null, step: Step | undefined): Advance => {
    if (step && state === 'exited')
      log.push({ step: step.id, type: step.type, at: ctx.now, outcome: `exited: ${reason}` });
    return { state, position: pos, dueAt: null, waitingFor: null, exitReason: reason, log, actions, arm };
  };
  if (!ctx.exists()) return end('exited', 'profile no longer exists', journey.steps.get(pos.step));
  const leave = journey.exitWhen.segments.find((s) => ctx.inSegment(s));
  if (leave !== undefined)
    return end('exited', `exit criteria: in segment ${leave}`, journey.steps.get(pos.step));

  // Validation rejects loops without a wait, so a run visits each step at most once before waiting.
  for (let guard = 0; guard <= journey.steps.size + 1; guard++) {
    const step = journey.steps.get(pos.step);
    if (!step) return end('exited', `step "${pos.step}" is not in this version`, undefined);
    const record = (outcome: string) => log.push({ step: step.id, type: step.type, at: ctx.now, outcome });
    const go = (next: string, stepsTaken = pos.stepsTaken + 1): void => {
      pos = { step: next, phase: 'enter', stepsTaken, signal: null };
    };

    if (pos.phase === 'waiting') {
      if (step.type === 'wait_for_event') {
        const got = pos.signal;
        record(got ? `event ${got.event} arrived` : 'timed out');
        go(got ? step.next : step.timeoutNext, pos.stepsTaken);
      } else if (step.type === 'delay') {
        go(step.next, pos.stepsTaken);
      } else {
        go(pos.step, pos.stepsTaken);
        pos = { ...pos, phase: 'enter' };
      }
      continue;
    }

    const key = `${ctx.entryId}:${step.id}:${pos.stepsTaken}`;
    switch (step.type) {
      case 'delay': {
        const due = delayEnd(step, journey, ctx);
        if (due <= ctx.now) {
          record('no wait needed');
          go(step.next);
          break;
        }
        record(`waiting until ${new Date(due).toISOString()}`);
        pos = { ...pos, phase: 'waiting', stepsTaken: pos.stepsTaken + 1 };
        return {
          state: 'active',
          position: pos,
          dueAt: due,
          waitingFor: null,
          exitReason: null,
          log,
          actions,
          arm,
        };
      }
      case 'wait_for_event': {
        const due = ctx.now + step.timeoutMs;
        record(`waiting for ${step.event.name} until ${new Date(due).toISOString()}`);
        pos = { ...pos, phase: 'waiting', stepsTaken: pos.stepsTaken + 1, signal: null };
        return {
          state: 'active',
          position: pos,
          dueAt: due,
          waitingFor: step.event.name,
          exitReason: null,
          log,
          actions,
          arm,
        };
      }
      case 'condition': {
        const yes = ctx.evaluate(step.rule);
        record(yes ? 'then' : 'else');
        go(yes ? step.then : step.else);
        break;
      }
      case 'branch': {
        const hit = step.branches.find((b) => ctx.evaluate(b.rule));
        record(hit ? `branch ${hit.name}` : 'otherwise');
        go(hit ? hit.next : step.otherwise);
        break;
      }
      case 'split': {
        const draw = unitDraw(key) * 100;
        let acc = 0;
        let chosen = step.variants[step.variants.length - 1]!;
        for (const v of step.variants) {
          acc += v.percent;
          if (draw < acc) {
            chosen = v;
            break;
          }
        }
        record(`${chosen.control ? 'control' : 'variant'} ${chosen.name}`);
        arm ??= chosen.name;
        go(chosen.next);
        break;
      }
      case 'send':
        actions.push({
          kind: 'send',
          key,
          step: step.id,
          channel: step.channel,
          template: step.template,
          priority: step.priority,
          quietHours: step.quietHours,
        });
        record(`${step.channel} ${step.template} queued`);
        go(step.next);
        break;
      case 'update_profile':
        actions.push({ kind: 'update_profile', key, step: step.id, traits: step.traits });
        record(`set ${Object.keys(step.traits).join(', ')}`);
        go(step.next);
        break;
      case 'webhook':
        actions.push({ kind: 'webhook', key, step: step.id, url: step.url, body: step.body });
        record(`webhook ${step.url} queued`);
        go(step.next);
        break;
      case 'list':
        actions.push({ kind: 'list', key, step: step.id, op: step.op, list: step.list });
        record(`${step.op === 'add' ? 'added to' : 'removed from'} list ${step.list}`);
        go(step.next);
        break;
      case 'exit':
        record('completed');
        pos = { ...pos, stepsTaken: pos.stepsTaken + 1 };
        return end('completed', null, step);
    }
  }
  throw new Error(`journey advance did not settle: a loop without a wait in "${journey.name}"`);
}

function delayEnd(step: Extract<Step, { type: 'delay' }>, journey: Journey, ctx: StepContext): number {
  const d = step.delay;
  switch (d.kind) {
    case 'duration':
      return ctx.now + d.ms;
    case 'until':
      return d.at;
    case 'local_time': {
      const own = ctx.timezone();
      const tz = own !== null && isTimeZone(own) ? own : journey.timezone;
      return nextLocalTime(ctx.now, tz, d.at, d.days);
    }
  }
}

/**
 * A uniform draw in [0, 1) from a string: cyrb53, a fast well-mixed 53-bit hash. Deterministic, so a
 * re-run of a split step after a crash puts the customer in the same variant.
 */
export function unitDraw(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}
