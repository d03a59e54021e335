/**
 * What of a profile evaluating some segments reads, so a build scan can fetch just that instead of
 * every profile's whole facts and traits (docs/performance.md, engagement run 5). A rule over event
 * counts or times reads one series per event it names; computed traits may read any part of the facts,
 * so a rule that names one needs them whole (as do identity kinds, filtered events and consent
 * state, which a projection does not pick out).
 */
import { eventKey } from '../facts/facts.js';
import type { Rule } from '../rules/types.js';
import type { Definitions } from './definitions.js';

/** The parts of a profile's facts (and whether its traits) a scan must read. */
export interface FactsProjection {
  /** keys of `facts.e` (`type:name`) */
  readonly events: readonly string[];
  /** whether rules read the profile's traits */
  readonly traits: boolean;
}

/**
 * What evaluating the segments `only` reads (their rules, each with other segments' memberships taken as
 * stored), or null when it is everything: a computed trait, or more event series than a projection saves.
 */
export function factsNeededBy(defs: Definitions, only: ReadonlySet<string>): FactsProjection | null {
  const events = new Set<string>();
  let traits = false;
  let whole = false;
  const visit = (r: Rule): void => {
    switch (r.kind) {
      case 'and':
      case 'or':
        r.rules.forEach(visit);
        return;
      case 'not':
        visit(r.rule);
        return;
      case 'trait':
        traits = true;
        return;
      case 'consent':
        // the ledger's state is in the facts (`c`), which a projection does not pick out; the
        // trait is the fallback for customers never asked
        whole = true;
        return;
      case 'identity':
        // identity kinds are in the facts (`k`), which a projection does not pick out
        whole = true;
        return;
      case 'computed':
        whole = true;
        return;
      case 'event_count':
      case 'event_time':
        // filtered selectors' series are read whole (rare in a build of its own)
        if (r.event.where.length > 0) whole = true;
        else events.add(eventKey(r.event.type, r.event.name));
        return;
      case 'stage':
      case 'segment':
        return;
    }
  };
  for (const seg of defs.segments) {
    if (!only.has(seg.id)) continue;
    // a profiling segment needs the consent state in the facts
    if (seg.requiresProfiling) whole = true;
    visit(seg.rule);
  }
  if (whole || events.size > MAX_SERIES) return null;
  return { events: [...events], traits };
}

/** Past this many series, picking them out one by one costs about what parsing the whole facts does. */
const MAX_SERIES = 8;

/**
 * The segments whose stored memberships evaluating the segments `only` reads: their own (to tell who
 * enters and who leaves) and those their rules name (taken as stored). A build's scan reads just these
 * of each profile's memberships, not every segment's.
 */
export function membershipsReadBy(defs: Definitions, only: ReadonlySet<string>): string[] {
  const out = new Set(only);
  const visit = (r: Rule): void => {
    if (r.kind === 'and' || r.kind === 'or') r.rules.forEach(visit);
    else if (r.kind === 'not') visit(r.rule);
    else if (r.kind === 'segment') out.add(r.id);
  };
  for (const seg of defs.segments) if (only.has(seg.id)) visit(seg.rule);
  return [...out].sort();
}
