import { describe, expect, it } from 'vitest';
import {
  isTimeZone,
  MAX_DURATION_MS,
  nextLocalTime,
  nextRun,
  parseDuration,
  parseLocalTime,
  zonedInstant,
} from './time.js';

const iso = (t: number) => new Date(t).toISOString();
const at = (hour: number, minute = 0) => ({ hour, minute });
const MON = 1;

describe('parseDuration', () => {
  it('reads each unit', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2h')).toBe(2 * 3_600_000);
    expect(parseDuration('3d')).toBe(3 * 86_400_000);
    expect(parseDuration('1w')).toBe(7 * 86_400_000);
    expect(parseDuration('007m')).toBe(7 * 60_000);
  });

  it('rejects malformed durations', () => {
    for (const bad of [
      '',
      'h',
      '1',
      '0s',
      '0d',
      '-1h',
      '+1h',
      '1.5h',
      '1 h',
      ' 1h',
      '1h ',
      '1H',
      '1y',
      '1ms',
      '1h30m',
      '1e3s',
    ]) {
      expect(parseDuration(bad), bad).toBeNull();
    }
  });

  it('accepts up to five years and nothing longer', () => {
    expect(MAX_DURATION_MS).toBe(1825 * 86_400_000);
    expect(parseDuration('1825d')).toBe(MAX_DURATION_MS);
    expect(parseDuration('43800h')).toBe(MAX_DURATION_MS);
    expect(parseDuration('1826d')).toBeNull();
    expect(parseDuration('43801h')).toBeNull();
    expect(parseDuration('260w')).toBe(260 * 7 * 86_400_000);
    expect(parseDuration('261w')).toBeNull();
    expect(parseDuration('999999s')).toBe(999_999_000);
    // at most six digits
    expect(parseDuration('1000000s')).toBeNull();
  });
});

describe('parseLocalTime', () => {
  it('reads 24-hour "HH:MM"', () => {
    expect(parseLocalTime('00:00')).toEqual({ hour: 0, minute: 0 });
    expect(parseLocalTime('09:05')).toEqual({ hour: 9, minute: 5 });
    expect(parseLocalTime('10:00')).toEqual({ hour: 10, minute: 0 });
    expect(parseLocalTime('23:59')).toEqual({ hour: 23, minute: 59 });
  });

  it('rejects anything else', () => {
    for (const bad of [
      '24:00',
      '9:00',
      '12:60',
      '12:5',
      '12:00:00',
      ' 12:00',
      '12:00 ',
      '12h00',
      'ab:cd',
      '',
      '-1:00',
    ]) {
      expect(parseLocalTime(bad), bad).toBeNull();
    }
  });
});

describe('isTimeZone', () => {
  it('knows IANA zones', () => {
    for (const tz of ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Berlin'])
      expect(isTimeZone(tz), tz).toBe(true);
  });

  it('rejects unknown zones', () => {
    for (const tz of ['Mars/Olympus_Mons', 'Asia/Tokio', 'not a zone', ''])
      expect(isTimeZone(tz), tz).toBe(false);
  });
});

describe('nextLocalTime', () => {
  it('lands a "10:00" step at each customer\'s own 10:00 (winter: New York on EST)', () => {
    const now = Date.UTC(2026, 0, 15, 0, 0); // Thu 09:00 in Tokyo, Wed 19:00 in New York
    expect(iso(nextLocalTime(now, 'Asia/Tokyo', at(10), null))).toBe('2026-01-15T01:00:00.000Z');
    expect(iso(nextLocalTime(now, 'America/New_York', at(10), null))).toBe('2026-01-15T15:00:00.000Z');
    expect(iso(nextLocalTime(now, 'UTC', at(10), null))).toBe('2026-01-15T10:00:00.000Z');
  });

  it('follows daylight-saving time (summer: New York on EDT)', () => {
    const now = Date.UTC(2026, 6, 15, 0, 0); // Wed 09:00 in Tokyo, Tue 20:00 in New York
    expect(iso(nextLocalTime(now, 'Asia/Tokyo', at(10), null))).toBe('2026-07-15T01:00:00.000Z');
    expect(iso(nextLocalTime(now, 'America/New_York', at(10), null))).toBe('2026-07-15T14:00:00.000Z');
  });

  it('uses the local date, not the UTC date, to pick the day', () => {
    // 2026-01-15T16:00Z is already Jan 16 01:00 in Tokyo: the next 10:00 there is 01:00Z on the 16th.
    expect(iso(nextLocalTime(Date.UTC(2026, 0, 15, 16), 'Asia/Tokyo', at(10), null))).toBe(
      '2026-01-16T01:00:00.000Z',
    );
    // 2026-01-16T03:00Z is still Jan 15 22:00 in New York: the next 10:00 there is 15:00Z on the 16th.
    expect(iso(nextLocalTime(Date.UTC(2026, 0, 16, 3), 'America/New_York', at(10), null))).toBe(
      '2026-01-16T15:00:00.000Z',
    );
  });

  it('is strictly after now: exactly 10:00 local means tomorrow', () => {
    const tenTokyo = Date.UTC(2026, 0, 15, 1, 0);
    expect(iso(nextLocalTime(tenTokyo, 'Asia/Tokyo', at(10), null))).toBe('2026-01-16T01:00:00.000Z');
    expect(iso(nextLocalTime(tenTokyo - 1, 'Asia/Tokyo', at(10), null))).toBe('2026-01-15T01:00:00.000Z');
    expect(iso(nextLocalTime(tenTokyo + 1, 'Asia/Tokyo', at(10), null))).toBe('2026-01-16T01:00:00.000Z');
    const tenNewYork = Date.UTC(2026, 0, 15, 15, 0);
    expect(iso(nextLocalTime(tenNewYork, 'America/New_York', at(10), null))).toBe('2026-01-16T15:00:00.000Z');
  });

  it("keeps to the given weekdays (0 = Sunday), in the customer's zone", () => {
    // Thursday 2026-01-15: the next Monday is the 19th.
    const thursday = Date.UTC(2026, 0, 15, 0, 0);
    expect(iso(nextLocalTime(thursday, 'Asia/Tokyo', at(10), [MON]))).toBe('2026-01-19T01:00:00.000Z');
    expect(iso(nextLocalTime(thursday, 'America/New_York', at(10), [MON]))).toBe('2026-01-19T15:00:00.000Z');
    // Sunday 20:00Z is already Monday 05:00 in Tokyo: today's 10:00 there.
    const sundayEvening = Date.UTC(2026, 0, 18, 20, 0);
    expect(iso(nextLocalTime(sundayEvening, 'Asia/Tokyo', at(10), [MON]))).toBe('2026-01-19T01:00:00.000Z');
    // Monday 10:00 exactly: a whole week later (the last day the search looks at).
    const mondayTen = Date.UTC(2026, 0, 19, 1, 0);
    expect(iso(nextLocalTime(mondayTen, 'Asia/Tokyo', at(10), [MON]))).toBe('2026-01-26T01:00:00.000Z');
    // Several days: the nearest one wins (Sat = 6, Sun = 0).
    expect(iso(nextLocalTime(thursday, 'Asia/Tokyo', at(10), [0, 6]))).toBe('2026-01-17T01:00:00.000Z');
  });

  it('resolves a time skipped by the spring-forward jump to just after the gap, on that day', () => {
    // New York, 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT; 02:30 does not happen.
    const tz = 'America/New_York';
    const gap = { year: 2026, month: 3, day: 8, hour: 2, minute: 30 };
    expect(iso(zonedInstant(tz, gap))).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    // From midnight EST and from 01:45 EST (before the jump) the answer is that same day, after the gap.
    expect(iso(nextLocalTime(Date.UTC(2026, 2, 8, 5, 0), tz, at(2, 30), null))).toBe(
      '2026-03-08T07:30:00.000Z',
    );
    expect(iso(nextLocalTime(Date.UTC(2026, 2, 8, 6, 45), tz, at(2, 30), null))).toBe(
      '2026-03-08T07:30:00.000Z',
    );
    // Once past it, the next day's 02:30 EDT.
    expect(iso(nextLocalTime(Date.UTC(2026, 2, 8, 8, 0), tz, at(2, 30), null))).toBe(
      '2026-03-09T06:30:00.000Z',
    );
    // Times either side of the gap are untouched.
    expect(iso(zonedInstant(tz, { ...gap, hour: 1, minute: 59 }))).toBe('2026-03-08T06:59:00.000Z');
    expect(iso(zonedInstant(tz, { ...gap, hour: 3, minute: 0 }))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(nextLocalTime(Date.UTC(2026, 2, 8, 5, 0), tz, at(10), null))).toBe('2026-03-08T14:00:00.000Z');
  });

  it('resolves a skipped time after the gap in a zone east of UTC too', () => {
    // Berlin, 2026-03-29: 02:00 CET (01:00Z) jumps to 03:00 CEST.
    const t = zonedInstant('Europe/Berlin', { year: 2026, month: 3, day: 29, hour: 2, minute: 30 });
    expect(iso(t)).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
  });

  it('takes the first pass of a repeated hour', () => {
    // New York, 2026-11-01: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(
      iso(zonedInstant('America/New_York', { year: 2026, month: 11, day: 1, hour: 1, minute: 30 })),
    ).toBe('2026-11-01T05:30:00.000Z');
    // Berlin, 2026-10-25: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(iso(zonedInstant('Europe/Berlin', { year: 2026, month: 10, day: 25, hour: 2, minute: 30 }))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('maps every wall time of a year to that wall time, its first pass, or just after a skipped time', () => {
    const civil = (tz: string) => {
      const f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      // "2026-03-08T02:30", comparable as text; remembered, as the loop asks for each instant thrice
      const seen = new Map<number, string>();
      return (t: number) => {
        let wall = seen.get(t);
        if (wall === undefined) {
          const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
          wall = `${p['year']}-${p['month']}-${p['day']}T${p['hour']}:${p['minute']}`;
          seen.set(t, wall);
        }
        return wall;
      };
    };
    const inUtc = (t: number) => new Date(t).toISOString().slice(0, 16);
    let checked = 0;
    let skipped = 0;
    // Lord Howe moves its clocks by 30 minutes; Kathmandu and St John's have odd offsets.
    for (const tz of [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'America/St_Johns',
      'Asia/Kathmandu',
    ]) {
      const wallOf = civil(tz);
      for (let day = 0; day < 365; day++) {
        const d = new Date(Date.UTC(2026, 0, 1 + day));
        for (let minutes = 0; minutes < 24 * 60; minutes += 30) {
          const c = {
            year: d.getUTCFullYear(),
            month: d.getUTCMonth() + 1,
            day: d.getUTCDate(),
            hour: Math.floor(minutes / 60),
            minute: minutes % 60,
          };
          const want = inUtc(Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute));
          const t = zonedInstant(tz, c);
          checked++;
          if (wallOf(t) === want) {
            // the first pass: half an hour and an hour earlier it was not yet this wall time again
            expect(wallOf(t - 1_800_000), `${tz} ${want}`).not.toBe(want);
            expect(wallOf(t - 3_600_000), `${tz} ${want}`).not.toBe(want);
          } else {
            // a skipped time: lands after it, by no more than the jump
            skipped++;
            expect(wallOf(t) > want, `${tz} ${want} → ${wallOf(t)}`).toBe(true);
            expect(wallOf(t - 3_600_000) < want, `${tz} ${want} → ${wallOf(t)}`).toBe(true);
          }
        }
      }
    }
    expect(checked).toBe(5 * 365 * 48);
    // New York, Berlin and St John's skip two half-hours each, Lord Howe one (Kathmandu none).
    expect(skipped).toBe(7);
    // 87,600 wall times, each several Intl calls: about 10 s alone, and it must not fail on a busy machine.
  }, 120_000);
});

describe('nextRun', () => {
  const at = Date.parse('2026-12-01T01:00:00Z');
  const DAY = 86_400_000;
  it('is the first run when it is still ahead', () => expect(nextRun(at, 7, at - 1)).toBe(at));
  it('runs a late one-off at once', () => expect(nextRun(at, null, at + 5 * DAY)).toBe(at + 5 * DAY));
  it('takes the next repetition of a recurring schedule, never one in the past', () => {
    expect(nextRun(at, 7, at + 1)).toBe(at + 7 * DAY);
    expect(nextRun(at, 7, at + 7 * DAY)).toBe(at + 7 * DAY);
    expect(nextRun(at, 7, at + 15 * DAY)).toBe(at + 21 * DAY);
  });
});
