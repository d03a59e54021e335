/**
 * The shape checks of a journey's step graph: every branch leads to a step that exists, every step can
 * be reached from the start, and every cycle passes through a delay or a wait (a loop without one would
 * run forever in one go, sending on every turn).
 */
import type { RuleIssue } from '../rules/schema-values.js';
import { fieldOf } from '../rules/schema-values.js';
import type { Step } from './types.js';

/** The steps a step can lead to, with the field each reference is in. */
export function successors(step: Step): { field: string; to: string }[] {
  const at = fieldOf('steps', step.id);
  switch (step.type) {
    case 'exit':
      return [];
    case 'wait_for_event':
      return [
        { field: `${at}.next`, to: step.next },
        { field: `${at}.timeout_next`, to: step.timeoutNext },
      ];
    case 'condition':
      return [
        { field: `${at}.then`, to: step.then },
        { field: `${at}.else`, to: step.else },
      ];
    case 'branch':
      return [
        ...step.branches.map((b, i) => ({ field: `${at}.branches[${i}].next`, to: b.next })),
        { field: `${at}.otherwise`, to: step.otherwise },
      ];
    case 'split':
      return step.variants.map((v, i) => ({ field: `${at}.variants[${i}].next`, to: v.next }));
    default:
      return [{ field: `${at}.next`, to: step.next }];
  }
}

/** Whether the step waits for time to pass (so a cycle through it is paced). */
export function waits(step: Step): boolean {
  return step.type === 'delay' || step.type === 'wait_for_event';
}

export function checkGraph(start: string, steps: ReadonlyMap<string, Step>): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const step of steps.values()) {
    for (const s of successors(step)) {
      if (!steps.has(s.to)) issues.push({ field: s.field, rule: `names no step ("${s.to}")` });
    }
  }
  const reached = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const step = steps.get(queue.pop()!);
    if (!step) continue;
    for (const s of successors(step)) {
      if (!reached.has(s.to) && steps.has(s.to)) {
        reached.add(s.to);
        queue.push(s.to);
      }
    }
  }
  for (const id of steps.keys()) {
    if (!reached.has(id))
      issues.push({ field: fieldOf('steps', id), rule: `is unreachable from the start step "${start}"` });
  }
  const cycle = unpacedCycle(steps);
  if (cycle) {
    issues.push({
      field: fieldOf('steps', cycle[0]!),
      rule: `is on a loop with no delay or wait_for_event step (${[...cycle, cycle[0]].join(' → ')})`,
    });
  }
  return issues;
}

/** A cycle made only of steps that do not wait, as a list of step ids; null when there is none. */
function unpacedCycle(steps: ReadonlyMap<string, Step>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'open');
    path.push(id);
    const step = steps.get(id)!;
    if (!waits(step)) {
      for (const { to } of successors(step)) {
        const next = steps.get(to);
        if (!next || waits(next)) continue;
        const st = state.get(to);
        if (st === 'open') return path.slice(path.indexOf(to));
        if (st === undefined) {
          const found = visit(to);
          if (found) return found;
        }
      }
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of steps.keys()) {
    if (state.has(id)) continue;
    const found = visit(id);
    if (found) return found;
  }
  return null;
}
