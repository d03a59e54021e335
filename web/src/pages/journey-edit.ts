import type { JourneyDefinition, JourneyStep } from '../types.js';

/**
 * Edits of a journey draft made from the graph: connect an edge to another step, add a step, remove
 * one. Pure: each returns a new definition; the server validates it when the draft is saved (an
 * unreachable new step, a dangling edge or a step-less loop comes back as an error on that step).
 */
export interface Edge {
  label: string;
  to: string;
  /** the same step with this edge pointing at `to` */
  connect: (step: JourneyStep, to: string) => JourneyStep;
}

const field =
  (name: 'next' | 'timeout_next' | 'then' | 'else' | 'otherwise') =>
  (step: JourneyStep, to: string): JourneyStep => ({ ...step, [name]: to });

/** A step's outgoing edges, each with the label of its branch. */
export function edges(step: JourneyStep): Edge[] {
  const out: Edge[] = [];
  if (step.next)
    out.push({ label: step.type === 'wait_for_event' ? 'event' : '', to: step.next, connect: field('next') });
  if (step.timeout_next)
    out.push({ label: 'timeout', to: step.timeout_next, connect: field('timeout_next') });
  if (step.then) out.push({ label: 'then', to: step.then, connect: field('then') });
  if (step.else) out.push({ label: 'else', to: step.else, connect: field('else') });
  (step.branches ?? []).forEach((b, i) =>
    out.push({
      label: b.name,
      to: b.next,
      connect: (s, to) => ({
        ...s,
        branches: (s.branches ?? []).map((x, j) => (j === i ? { ...x, next: to } : x)),
      }),
    }),
  );
  if (step.otherwise) out.push({ label: 'otherwise', to: step.otherwise, connect: field('otherwise') });
  (step.variants ?? []).forEach((v, i) =>
    out.push({
      label: `${v.name} ${v.percent}%`,
      to: v.next,
      connect: (s, to) => ({
        ...s,
        variants: (s.variants ?? []).map((x, j) => (j === i ? { ...x, next: to } : x)),
      }),
    }),
  );
  return out;
}

export function connect(def: JourneyDefinition, id: string, edge: Edge, to: string): JourneyDefinition {
  const step = def.steps[id];
  if (!step) return def;
  return { ...def, steps: { ...def.steps, [id]: edge.connect(step, to) } };
}

export const STEP_TYPES = [
  'send',
  'delay',
  'wait_for_event',
  'condition',
  'split',
  'update_profile',
  'exit',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** A new step of `type` whose edges all point at an exit step (made when there is none). */
export function addStep(def: JourneyDefinition, id: string, type: StepType): JourneyDefinition {
  const steps = { ...def.steps };
  let exit = Object.keys(steps).find((k) => steps[k]?.type === 'exit');
  if (!exit && type !== 'exit') {
    exit = 'done';
    steps[exit] = { type: 'exit' };
  }
  const to = exit ?? id;
  const fresh: Record<StepType, JourneyStep> = {
    send: { type: 'send', channel: 'email', template: '', next: to },
    delay: { type: 'delay', duration: '1d', next: to },
    wait_for_event: {
      type: 'wait_for_event',
      event: 'Order Completed',
      timeout: '3d',
      next: to,
      timeout_next: to,
    },
    condition: { type: 'condition', rule: { has: 'email' }, then: to, else: to },
    split: {
      type: 'split',
      variants: [
        { name: 'A', percent: 50, next: to },
        { name: 'control', percent: 50, next: to, control: true },
      ],
    },
    update_profile: { type: 'update_profile', traits: {}, next: to },
    exit: { type: 'exit' },
  };
  steps[id] = fresh[type];
  return { ...def, steps };
}

export function removeStep(def: JourneyDefinition, id: string): JourneyDefinition {
  const steps = { ...def.steps };
  delete steps[id];
  const layout = layoutOf(def);
  if (!layout || !(id in layout)) return { ...def, steps };
  const rest = { ...layout };
  delete rest[id];
  return { ...def, steps, layout: rest };
}

export interface Position {
  x: number;
  y: number;
}

/** The canvas positions the draft keeps (`layout`), or null when it keeps none (automatic layout). */
export function layoutOf(def: JourneyDefinition): Record<string, Position> | null {
  const l = def['layout'];
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return null;
  const out: Record<string, Position> = {};
  for (const [id, p] of Object.entries(l as Record<string, unknown>)) {
    const { x, y } = (p ?? {}) as { x?: unknown; y?: unknown };
    if (typeof x === 'number' && typeof y === 'number') out[id] = { x, y };
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** The draft with every step at the given position (whole pixels, kept on the canvas). */
export function withLayout(def: JourneyDefinition, positions: Record<string, Position>): JourneyDefinition {
  const clamp = (n: number) => Math.min(20_000, Math.max(0, Math.round(n)));
  const layout: Record<string, Position> = {};
  for (const id of Object.keys(def.steps)) {
    const p = positions[id];
    if (p) layout[id] = { x: clamp(p.x), y: clamp(p.y) };
  }
  return { ...def, layout };
}
