/**
 * Picks event series out of a profile's stored facts text without parsing the rest: a build scan
 * evaluating "performed X" over every profile needs one or two series of each profile's facts, and
 * parsing the whole document was most of a scan's time (docs/performance.md, engagement run 5).
 *
 * It relies on the stored form that `JSON.stringify` gives version-2 facts (facts.ts): the text starts
 * with `{"v":2,"e":{`, and `e` maps `type:name` keys to series objects whose only nested value is a
 * flat number array. Inside `e` every quote of a key is escaped, so `"key":{` (the key JSON-encoded)
 * occurs unescaped only as that key, and `},"s":` only where `e` ends. Text of any other shape
 * returns null and the caller parses it whole.
 */
import { FACTS_VERSION, type ProfileFacts, type Series } from './facts.js';

const HEAD = `{"v":${FACTS_VERSION},"e":{`;
const E_END = '},"s":';

/** Facts holding just the series of `keys` the profile has (and nothing else), or null (see above). */
export function pickSeries(text: string, keys: readonly string[]): ProfileFacts | null {
  if (!text.startsWith(HEAD)) return null;
  const end = text.indexOf(E_END, HEAD.length - 1);
  if (end < 0) return null;
  const e: Record<string, Series> = {};
  for (const key of keys) {
    const pattern = `${JSON.stringify(key)}:{`;
    const at = text.indexOf(pattern, HEAD.length - 1);
    if (at < 0 || at > end) continue;
    const open = at + pattern.length - 1;
    const close = text.indexOf('}', open);
    if (close < 0 || close > end) return null;
    e[key] = JSON.parse(text.slice(open, close + 1)) as Series;
  }
  return { v: FACTS_VERSION, e, s: {}, a: {}, k: [] };
}
