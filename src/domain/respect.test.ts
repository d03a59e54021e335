import { describe, expect, it } from 'vitest';
import { capReached, parseDeliverySettings, quietUntil, type FrequencyCap } from './respect.js';

const CHANNELS = ['email', 'push', 'sms'];
const settings = (input: unknown) => {
  const p = parseDeliverySettings(input, CHANNELS);
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  return p.settings;
};
const issues = (input: unknown) => {
  const p = parseDeliverySettings(input, CHANNELS);
  return p.ok ? [] : p.issues.map((i) => `${i.field}: ${i.rule}`);
};

describe('quiet hours', () => {
  const q = settings({ quiet_hours: { start: '21:00', end: '08:00', timezone: 'Asia/Tokyo' } }).quietHours!;

  it('hold a message sent at night in the customer’s own zone until the window ends there', () => {
    // 23:30 in Tokyo = 14:30 UTC: quiet until 08:00 Tokyo the next day (23:00 UTC).
    expect(quietUntil(q, Date.UTC(2026, 10, 30, 14, 30), 'Asia/Tokyo')).toBe(Date.UTC(2026, 10, 30, 23, 0));
    // 02:00 in Tokyo (17:00 UTC the day before): quiet until 08:00 the same local day.
    expect(quietUntil(q, Date.UTC(2026, 10, 30, 17, 0), 'Asia/Tokyo')).toBe(Date.UTC(2026, 10, 30, 23, 0));
    // The same instant is 09:30 in New York: not quiet there.
    expect(quietUntil(q, Date.UTC(2026, 10, 30, 14, 30), 'America/New_York')).toBeNull();
    // The window's end is open: 08:00 exactly is no longer quiet; 21:00 exactly is.
    expect(quietUntil(q, Date.UTC(2026, 10, 30, 23, 0), 'Asia/Tokyo')).toBeNull();
    expect(quietUntil(q, Date.UTC(2026, 10, 30, 12, 0), 'Asia/Tokyo')).toBe(Date.UTC(2026, 10, 30, 23, 0));
  });

  it('work for a window inside one day too', () => {
    const lunch = settings({ quiet_hours: { start: '12:00', end: '13:00', timezone: 'UTC' } }).quietHours!;
    expect(quietUntil(lunch, Date.UTC(2026, 10, 30, 12, 30), 'UTC')).toBe(Date.UTC(2026, 10, 30, 13, 0));
    expect(quietUntil(lunch, Date.UTC(2026, 10, 30, 13, 30), 'UTC')).toBeNull();
  });
});

describe('frequency caps', () => {
  const DAY = 86_400_000;
  const now = Date.UTC(2026, 10, 30);
  const caps: readonly FrequencyCap[] = settings({
    frequency_caps: [
      { max: 3, window: '7d' },
      { channel: 'sms', max: 1, window: '1d' },
      { topic: 'promotions', max: 1, window: '1d' },
    ],
  }).caps;

  it('count messages inside the rolling window, per channel where the cap names one', () => {
    const recent = [
      { channel: 'email', topic: 'marketing', at: now - 6 * DAY },
      { channel: 'push', topic: 'marketing', at: now - DAY },
    ];
    const one = (channel: string, at: number, topic = 'marketing') => ({ channel, topic, at });
    expect(capReached(caps, recent, 'email', 'marketing', now)).toBeNull();
    expect(capReached(caps, [...recent, one('email', now)], 'push', 'marketing', now)).toBe(
      'frequency cap: at most 3 marketing messages in 7d',
    );
    // The oldest one has left the window a day later.
    expect(capReached(caps, [...recent, one('email', now)], 'push', 'marketing', now + DAY)).toBeNull();
    expect(capReached(caps, [one('sms', now - 3_600_000)], 'sms', 'marketing', now)).toBe(
      'frequency cap: at most 1 sms message in 1d',
    );
    expect(capReached(caps, [one('sms', now - 3_600_000)], 'email', 'marketing', now)).toBeNull();
  });

  it('caps a topic on its own: only its messages count, and only its messages are stopped', () => {
    const promo = { channel: 'email', topic: 'promotions', at: now - 3_600_000 };
    expect(capReached(caps, [promo], 'push', 'promotions', now)).toBe(
      'frequency cap: at most 1 "promotions" message in 1d',
    );
    // A newsletter still goes: the promotions cap neither counts nor stops it.
    expect(capReached(caps, [promo], 'email', 'newsletter', now)).toBeNull();
    expect(capReached(caps, [{ ...promo, topic: 'newsletter' }], 'email', 'promotions', now)).toBeNull();
  });
});

describe('delivery settings validation', () => {
  it('names each wrong field', () => {
    expect(
      issues({
        quiet_hours: { start: '25:00', end: '08:00', timezone: 'Mars/Olympus', channels: ['fax'] },
        frequency_caps: [{ max: 0, window: 'week', channel: 'fax', topic: 'transactional', extra: 1 }],
        other: true,
      }),
    ).toEqual([
      'other: is not a delivery setting',
      'quiet_hours.start: required: a local time HH:MM',
      'quiet_hours.timezone: required: an IANA time zone such as Asia/Tokyo (used when a customer has none)',
      'quiet_hours.channels: must be a list of: email, push, sms',
      'frequency_caps[0].max: required: a whole number of messages, 1–1000',
      'frequency_caps[0].window: required: a duration such as 1d or 7d',
      'frequency_caps[0].channel: must be one of: email, push, sms (or absent: every channel)',
      'frequency_caps[0].topic: must be a topic: 1–50 lower-case letters, digits, _ or - (not transactional)',
      'frequency_caps[0].extra: is not a cap setting',
    ]);
    expect(issues({ quiet_hours: { start: '08:00', end: '08:00', timezone: 'UTC' } })).toEqual([
      'quiet_hours.end: must differ from start',
    ]);
    expect(settings({})).toEqual({ quietHours: null, caps: [], holdoutPercent: 0 });
  });
});
