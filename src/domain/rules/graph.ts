/**
 * What a rule depends on: other segments (for cycle checks and evaluation order), event selectors (which
 * facts the store must keep per profile) and computed traits.
 */
import type { Comparison } from './compare.js';
import type { EventSelector, Rule } from './types.js';

function walk(rule: Rule, visit: (r: Rule) => void): void {
  visit(rule);
  if (rule.kind === 'and' || rule.kind === 'or') for (const r of rule.rules) walk(r, visit);
  else if (rule.kind === 'not') walk(rule.rule, visit);
}

/** Ids of the segments `rule` refers to (member or not). */
export function segmentRefs(rule: Rule): Set<string> {
  const refs = new Set<string>();
  walk(rule, (r) => r.kind === 'segment' && refs.add(r.id));
  return refs;
}

/** Names of the computed traits `rule` reads. */
export function computedRefs(rule: Rule): Set<string> {
  const refs = new Set<string>();
  walk(rule, (r) => r.kind === 'computed' && refs.add(r.name));
  return refs;
}

/** Every event selector in `rule`, once per `selectorKey`, in order of first appearance. */
export function eventSelectors(rule: Rule): EventSelector[] {
  const found = new Map<string, EventSelector>();
  walk(rule, (r) => {
    if (r.kind !== 'event_count' && r.kind !== 'event_time') return;
    const key = selectorKey(r.event);
    if (!found.has(key)) found.set(key, r.event);
  });
  return [...found.values()];
}

/** The parts of a comparison that decide what it matches, in a fixed order. */
function comparisonParts(cmp: Comparison): unknown[] {
  switch (cmp.op) {
    case 'exists':
    case 'not_exists':
      return [cmp.op];
    case 'matches':
      return [cmp.op, cmp.value, cmp.regex.flags];
    case 'in':
    case 'not_in': {
      // The order and repetition of an `in` list do not change what it matches.
      const values = [...new Set(cmp.value.map((v) => JSON.stringify(v)))].sort();
      return [cmp.op, values];
    }
    default:
      return [cmp.op, cmp.value];
  }
}

const keys = new WeakMap<EventSelector, string>();

/**
 * A canonical string for a selector: equal for selectors that match the same events whatever the order
 * of their filters (or of an `in` list), different when the filters differ. Stores key per-profile event
 * facts by it, so it must never change for a given selector — treat the format as persisted data.
 *
 * Without filters it is `type:name` (the workspace's event key); with filters it is a JSON array
 * `[type, name, [filter, ...]]`. The two forms cannot collide: a JSON array starts with `[`, the other
 * form with a letter. Memoised per selector object, since the evaluator asks on every event.
 */
export function selectorKey(sel: EventSelector): string {
  let key = keys.get(sel);
  if (key !== undefined) return key;
  if (sel.where.length === 0) key = `${sel.type}:${sel.name}`;
  else {
    const filters = [
      ...new Set(sel.where.map((f) => JSON.stringify([f.path, ...comparisonParts(f.cmp)]))),
    ].sort();
    key = `[${JSON.stringify(sel.type)},${JSON.stringify(sel.name)},[${filters.join(',')}]]`;
  }
  keys.set(sel, key);
  return key;
}

/**
 * The cycle that saving segment `start` with references `refs` would create, as a path that begins and
 * ends with `start` (`[a, b, a]`; `[a, a]` for a self-reference), or null. `segments` holds every other
 * segment's references; its entry for `start`, if any, is ignored (`refs` replaces it). The path found is
 * a shortest one, so the message shown to the user is as small as it can be.
 */
export function findCycle(
  start: string,
  refs: ReadonlySet<string>,
  segments: ReadonlyMap<string, ReadonlySet<string>>,
): string[] | null {
  const parent = new Map<string, string>();
  const queue: string[] = [];
  for (const r of refs) {
    if (r === start) return [start, start];
    if (!parent.has(r)) {
      parent.set(r, start);
      queue.push(r);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const next of segments.get(id) ?? []) {
      if (next === start) {
        const chain: string[] = [];
        for (let at: string | undefined = id; at !== undefined && at !== start; at = parent.get(at))
          chain.push(at);
        return [start, ...chain.reverse(), start];
      }
      if (!parent.has(next)) {
        parent.set(next, id);
        queue.push(next);
      }
    }
  }
  return null;
}

/**
 * Segment ids ordered so that every segment comes after the segments it refers to (depth-first, in the
 * map's order, so the result is deterministic). References to ids not in the map are ignored. Cycles
 * cannot be saved (`findCycle`), but if stored data has one, its members are still all returned, in an
 * order that breaks the cycle at an arbitrary point, rather than failing the whole evaluation.
 */
export function evaluationOrder(segments: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of segments.keys()) {
    if (state.has(root)) continue;
    // Iterative DFS: a long chain of segments must not overflow the stack.
    const stack: { id: string; refs: Iterator<string> }[] = [];
    const enter = (id: string): void => {
      state.set(id, 'visiting');
      stack.push({ id, refs: (segments.get(id) ?? new Set<string>()).values() });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = top.refs.next();
      if (next.done) {
        stack.pop();
        state.set(top.id, 'done');
        order.push(top.id);
      } else if (segments.has(next.value) && !state.has(next.value)) enter(next.value);
    }
  }
  return order;
}
