import { describe, expect, it } from 'vitest';
import { ManualClock } from '../domain/clock.js';
import { createProgress, duration } from './progress.js';

/** Records what the progress bar writes, as a terminal or as a pipe would receive it. */
class FakeStream {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
  /** What a terminal shows now: the text after the last carriage return, escape codes removed. */
  get screenLine(): string {
    const lines = this.text.split('\n').filter((l) => l !== '');
    const last = lines[lines.length - 1] ?? '';
    return (last.split('\r').pop() ?? '').replaceAll('\x1b[K', '');
  }
}

const T0 = 1_750_000_000_000;

describe('createProgress on a terminal', () => {
  it('redraws one line with bar, percentage, counts, rate and ETA', () => {
    const stream = new FakeStream(true);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 10_000, label: 'import', unit: 'events', stream, clock });
    clock.advance(1000);
    p.tick(4200);
    expect(stream.screenLine).toBe(
      'import [########------------] 42% 4,200/10,000 events · 4,200/s · ETA 1.4s',
    );
    expect(stream.chunks.every((c) => c.startsWith('\r') && !c.includes('\n'))).toBe(true);
  });

  it('draws at most ten times a second however often it is ticked', () => {
    const stream = new FakeStream(true);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 100_000, label: 'x', stream, clock });
    // 100,000 ticks spread over one simulated second (1 ms every 100 ticks).
    for (let i = 0; i < 100_000; i++) {
      p.tick();
      if (i % 100 === 99) clock.advance(1);
    }
    // The first tick, then one draw per 100 ms.
    expect(stream.chunks.length).toBeLessThanOrEqual(11);
    expect(stream.chunks.length).toBeGreaterThanOrEqual(10);
  });

  it('finishes at 100% on its own line, and ignores ticks after done', () => {
    const stream = new FakeStream(true);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 50, label: 'customers', stream, clock });
    p.tick(10);
    clock.advance(50);
    p.tick(40); // within 100 ms of the last draw: not drawn yet
    expect(stream.screenLine).toContain(' 20% 10/50');
    clock.advance(1950);
    p.done();
    expect(stream.text.endsWith('\n')).toBe(true);
    expect(stream.screenLine).toBe('customers [####################] 100% 50/50 · 25/s · ETA 0s');
    const written = stream.chunks.length;
    p.tick(5);
    p.done();
    expect(stream.chunks.length).toBe(written);
  });

  it('cuts the line to the terminal width so redraws never wrap', () => {
    const stream = new FakeStream(true, 30);
    const clock = new ManualClock(T0);
    createProgress({ total: 10, label: 'a-rather-long-label', stream, clock }).tick(3);
    expect(stream.screenLine).toHaveLength(29);
  });

  it('shows counts and rate without bar or ETA when the total is unknown', () => {
    const stream = new FakeStream(true);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 0, label: 'scan', unit: 'rows', stream, clock });
    clock.advance(2000);
    p.tick(3000);
    expect(stream.screenLine).toBe('scan 3,000 rows · 1,500/s');
  });
});

describe('createProgress in a log (not a terminal)', () => {
  it('prints a plain line at each quarter and a summary, never redraw codes', () => {
    const stream = new FakeStream(false);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 1000, label: 'demo', unit: 'events', stream, clock });
    for (let i = 0; i < 1000; i++) {
      clock.advance(2);
      p.tick();
    }
    p.done();
    const lines = stream.text.split('\n').filter((l) => l !== '');
    expect(lines).toEqual([
      'demo [#####---------------] 25% 250/1,000 events · 500/s · ETA 1.5s',
      'demo [##########----------] 50% 500/1,000 events · 500/s · ETA 1s',
      'demo [###############-----] 75% 750/1,000 events · 500/s · ETA 0.5s',
      'demo done: 1,000 events in 2s (500/s)',
    ]);
    expect(stream.text).not.toContain('\r');
    expect(stream.text).not.toContain('\x1b');
  });

  it('prints a heartbeat every few seconds when work is slow, and nothing in between', () => {
    const stream = new FakeStream(false);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 1_000_000, label: 'slow', stream, clock });
    for (let s = 0; s < 20; s++) {
      clock.advance(1000);
      p.tick(100);
    }
    // 20 s at 100/s never reaches 25%: one line per 5 s.
    expect(stream.chunks).toHaveLength(4);
    expect(stream.chunks[0]).toBe('slow [--------------------] 0% 500/1,000,000 · 100/s · ETA 2h46m\n');
  });

  it('does not print before the first quarter or heartbeat', () => {
    const stream = new FakeStream(false);
    const clock = new ManualClock(T0);
    const p = createProgress({ total: 100, label: 'q', stream, clock });
    p.tick(10);
    clock.advance(4000);
    p.tick(10);
    expect(stream.chunks).toEqual([]);
  });
});

describe('duration', () => {
  it('stays short at every scale', () => {
    expect(duration(0.44)).toBe('0.4s');
    expect(duration(42)).toBe('42s');
    expect(duration(185)).toBe('3m05s');
    expect(duration(7620)).toBe('2h07m');
  });
});
