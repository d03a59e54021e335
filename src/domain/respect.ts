/**
 * The respect rules checked before a message is queued (docs/channels.md#respect-rules): quiet hours
 * in the customer's own time zone, and frequency caps over rolling windows. Pure: the runner gives the
 * customer's recent messages and the time; these answer whether the message may go, wait, or not.
 */
import { unitDraw } from './journeys/machine.js';
import {
  isTimeZone,
  localMinuteOfDay,
  nextLocalTime,
  parseDuration,
  parseLocalTime,
} from './journeys/time.js';
import type { LocalTime } from './journeys/types.js';
import type { RuleIssue } from './rules/schema-values.js';
import { TOPIC_NAME, TOPIC_RULE, TRANSACTIONAL } from './subscriptions.js';

export interface QuietHours {
  readonly start: LocalTime;
  readonly end: LocalTime;
  /** for customers with no `timezone` trait */
  readonly timezone: string;
  /** the channels they apply to */
  readonly channels: readonly string[];
}

export interface FrequencyCap {
  /** null: every channel together */
  readonly channel: string | null;
  /** null: every topic together; else only messages of this topic (`promotions`) count and are capped */
  readonly topic: string | null;
  readonly max: number;
  readonly windowMs: number;
  /** as written (`7d`), for reasons */
  readonly window: string;
}

export interface DeliverySettings {
  readonly quietHours: QuietHours | null;
  readonly caps: readonly FrequencyCap[];
  /** the share of customers (0–50 %) in the global holdout, who get no marketing at all */
  readonly holdoutPercent: number;
}

export const NO_SETTINGS: DeliverySettings = { quietHours: null, caps: [], holdoutPercent: 0 };

/**
 * Whether a customer is in the workspace's global holdout: a stable draw from the profile id alone,
 * so the same customers stay out however often they are looked at, and raising the share only adds
 * customers (everyone below 5 % is also below 10 %). A merge keeps the surviving profile's draw.
 */
export function inGlobalHoldout(profileId: string, percent: number): boolean {
  return percent > 0 && unitDraw(`global-holdout:${profileId}`) * 100 < percent;
}

/** A message counted by the caps: one queued or sent to the customer, not transactional. */
export interface RecentMessage {
  readonly key?: string;
  readonly channel: string;
  /** the template's topic */
  readonly topic: string | null;
  readonly at: number;
}

export type Priority = 'high' | 'normal' | 'low';
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };

const hhmm = (t: LocalTime) => `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;

/**
 * When quiet hours are in force for a customer in `tz` at `now`: the instant they end; else null.
 * The window may wrap midnight (21:00–08:00).
 */
export function quietUntil(q: QuietHours, now: number, tz: string): number | null {
  const minute = localMinuteOfDay(now, tz);
  const start = q.start.hour * 60 + q.start.minute;
  const end = q.end.hour * 60 + q.end.minute;
  const inside = start <= end ? minute >= start && minute < end : minute >= start || minute < end;
  return inside ? nextLocalTime(now, tz, q.end, null) : null;
}

export function describeQuietHours(q: QuietHours, tz: string): string {
  return `quiet hours ${hhmm(q.start)}–${hhmm(q.end)} ${tz}`;
}

/** The first cap a new message on `channel` of `topic` would break, in words; null when none. */
export function capReached(
  caps: readonly FrequencyCap[],
  recent: readonly RecentMessage[],
  channel: string,
  topic: string | null,
  now: number,
): string | null {
  for (const c of caps) {
    if (c.channel !== null && c.channel !== channel) continue;
    if (c.topic !== null && c.topic !== topic) continue;
    const n = recent.filter(
      (m) =>
        m.at > now - c.windowMs &&
        (c.channel === null || m.channel === c.channel) &&
        (c.topic === null || m.topic === c.topic),
    ).length;
    if (n >= c.max) {
      const what = [
        c.topic !== null ? `"${c.topic}"` : null,
        c.channel ?? (c.topic === null ? 'marketing' : null),
      ]
        .filter(Boolean)
        .join(' ');
      return `frequency cap: at most ${c.max} ${what} message${c.max === 1 ? '' : 's'} in ${c.window}`;
    }
  }
  return null;
}

/** Whether a topic is subject to quiet hours and caps (transactional messages are not). */
export const respected = (topic: string) => topic !== TRANSACTIONAL;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the workspace's delivery settings as the API receives them (snake_case JSON). */
export function parseDeliverySettings(
  input: unknown,
  channels: readonly string[],
): { ok: true; settings: DeliverySettings } | { ok: false; issues: RuleIssue[] } {
  const issues: RuleIssue[] = [];
  const add = (field: string, rule: string) => issues.push({ field, rule });
  if (!isObject(input)) return { ok: false, issues: [{ field: 'body', rule: 'must be a JSON object' }] };
  for (const k of Object.keys(input)) {
    if (k !== 'quiet_hours' && k !== 'frequency_caps' && k !== 'global_holdout_percent')
      add(k, 'is not a delivery setting');
  }
  let quietHours: QuietHours | null = null;
  const q = input['quiet_hours'] ?? null;
  if (q !== null) {
    if (!isObject(q)) add('quiet_hours', 'must be an object or null');
    else {
      const start = typeof q['start'] === 'string' ? parseLocalTime(q['start']) : null;
      const end = typeof q['end'] === 'string' ? parseLocalTime(q['end']) : null;
      if (!start) add('quiet_hours.start', 'required: a local time HH:MM');
      if (!end) add('quiet_hours.end', 'required: a local time HH:MM');
      if (start && end && start.hour * 60 + start.minute === end.hour * 60 + end.minute)
        add('quiet_hours.end', 'must differ from start');
      const tz = q['timezone'];
      if (typeof tz !== 'string' || !isTimeZone(tz))
        add(
          'quiet_hours.timezone',
          'required: an IANA time zone such as Asia/Tokyo (used when a customer has none)',
        );
      // By default the channels that interrupt: push, web push, SMS and LINE (not e-mail).
      const ch = q['channels'] ?? channels.filter((c) => ['push', 'web_push', 'sms', 'line'].includes(c));
      if (!Array.isArray(ch) || ch.some((c) => typeof c !== 'string' || !channels.includes(c)))
        add('quiet_hours.channels', `must be a list of: ${channels.join(', ')}`);
      for (const k of Object.keys(q)) {
        if (!['start', 'end', 'timezone', 'channels'].includes(k))
          add(`quiet_hours.${k}`, 'is not a quiet-hours setting');
      }
      if (start && end && typeof tz === 'string' && Array.isArray(ch))
        quietHours = { start, end, timezone: tz, channels: ch as string[] };
    }
  }
  const caps: FrequencyCap[] = [];
  const list = input['frequency_caps'] ?? [];
  if (!Array.isArray(list)) add('frequency_caps', 'must be a list');
  else {
    list.forEach((c: unknown, i) => {
      const at = `frequency_caps[${i}]`;
      if (!isObject(c)) return add(at, 'must be an object');
      const max = c['max'];
      const window = c['window'];
      const channel = c['channel'] ?? null;
      const topic = c['topic'] ?? null;
      const windowMs = typeof window === 'string' ? parseDuration(window) : null;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000)
        add(`${at}.max`, 'required: a whole number of messages, 1–1000');
      if (windowMs === null) add(`${at}.window`, 'required: a duration such as 1d or 7d');
      if (channel !== null && (typeof channel !== 'string' || !channels.includes(channel)))
        add(`${at}.channel`, `must be one of: ${channels.join(', ')} (or absent: every channel)`);
      if (topic !== null && (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === TRANSACTIONAL))
        add(`${at}.topic`, `must be a topic: ${TOPIC_RULE.replace(/^must be /, '')} (not transactional)`);
      for (const k of Object.keys(c)) {
        if (!['max', 'window', 'channel', 'topic'].includes(k)) add(`${at}.${k}`, 'is not a cap setting');
      }
      if (typeof max === 'number' && windowMs !== null && typeof window === 'string')
        caps.push({
          channel: channel as string | null,
          topic: topic as string | null,
          max,
          windowMs,
          window,
        });
    });
  }
  const holdout = input['global_holdout_percent'] ?? 0;
  if (typeof holdout !== 'number' || !Number.isFinite(holdout) || holdout < 0 || holdout > 50)
    add(
      'global_holdout_percent',
      'must be a number from 0 to 50 (the share of customers who get no marketing)',
    );
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, settings: { quietHours, caps, holdoutPercent: holdout as number } };
}

/** The settings as the API shows them. */
export function deliverySettingsJson(s: DeliverySettings) {
  return {
    quiet_hours: s.quietHours && {
      start: hhmm(s.quietHours.start),
      end: hhmm(s.quietHours.end),
      timezone: s.quietHours.timezone,
      channels: s.quietHours.channels,
    },
    global_holdout_percent: s.holdoutPercent,
    frequency_caps: s.caps.map((c) => ({
      ...(c.channel !== null && { channel: c.channel }),
      ...(c.topic !== null && { topic: c.topic }),
      max: c.max,
      window: c.window,
    })),
  };
}
