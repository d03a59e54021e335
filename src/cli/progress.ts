import { systemClock, type Clock } from '../domain/clock.js';

/** The part of a writable stream the progress bar uses; `process.stderr` and test fakes both fit. */
export interface ProgressStream {
  /** True on a terminal: the bar redraws one line in place. Otherwise it prints plain log lines. */
  isTTY?: boolean;
  /** Terminal width; the line is cut to fit so it never wraps (a wrapped line cannot be redrawn). */
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Units of work expected; 0 or less when unknown (then no bar, percentage or ETA). */
  total: number;
  /** What is being done, at the start of every line. */
  label: string;
  /** Word after the counts, e.g. "events"; none by default. */
  unit?: string;
  /** Default `process.stderr`, so progress never mixes with a command's real output on stdout. */
  stream?: ProgressStream;
  clock?: Clock;
}

export interface Progress {
  /** Records `n` more units done (default 1). Cheap enough to call per item: it draws rarely. */
  tick(n?: number): void;
  /** Draws the final state and ends the line (TTY) or prints a summary. Further calls do nothing. */
  done(): void;
}

/** Terminal redraws at most this often: ~10 a second looks live and costs nothing. */
const TTY_INTERVAL_MS = 100;
/** Plain output prints at each quarter, and otherwise at most this often, so CI logs stay short. */
const LOG_INTERVAL_MS = 5000;
const BAR_WIDTH = 20;

/**
 * A dependency-free progress indicator for long CLI work. On a terminal:
 *   `label [#####---------------] 25% 2,500/10,000 events · 12,345/s · ETA 1s`
 * redrawn in place. Elsewhere (pipes, CI) a plain line when a quarter of the work is crossed or
 * `LOG_INTERVAL_MS` has passed since the last line, and a summary line from `done()`.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const clock = opts.clock ?? systemClock;
  const tty = stream.isTTY === true;
  const total = opts.total > 0 ? opts.total : 0;
  const unit = opts.unit ? ` ${opts.unit}` : '';
  const started = clock.now();
  let count = 0;
  // A terminal shows the bar at the first tick; a log waits for a quarter or the interval.
  let lastDraw = tty ? Number.NEGATIVE_INFINITY : started;
  let quarter = 0;
  let finished = false;

  const rate = (now: number): number => {
    const seconds = (now - started) / 1000;
    return seconds > 0 ? count / seconds : 0;
  };

  const status = (now: number): string => {
    const r = rate(now);
    const speed = r > 0 ? `${fmt(Math.round(r))}/s` : '–/s';
    if (total === 0) return `${opts.label} ${fmt(count)}${unit} · ${speed}`;
    const fraction = Math.min(1, count / total);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const eta = r > 0 ? duration(Math.max(0, total - count) / r) : '?';
    return `${opts.label} ${bar} ${Math.floor(fraction * 100)}% ${fmt(count)}/${fmt(total)}${unit} · ${speed} · ETA ${eta}`;
  };

  const redraw = (now: number): void => {
    let line = status(now);
    const width = stream.columns;
    if (width !== undefined && width > 1 && line.length >= width) line = line.slice(0, width - 1);
    // \r back to the start, \x1b[K clears what a longer previous line left behind.
    stream.write(`\r${line}\x1b[K`);
    lastDraw = now;
  };

  const log = (now: number): void => {
    stream.write(`${status(now)}\n`);
    lastDraw = now;
  };

  return {
    tick(n = 1) {
      if (finished) return;
      count += n;
      const now = clock.now();
      if (tty) {
        if (now - lastDraw >= TTY_INTERVAL_MS) redraw(now);
        return;
      }
      const q = total > 0 ? Math.min(4, Math.floor((count / total) * 4)) : 0;
      // The last quarter is left to done()'s summary, so a finished job does not print 100% twice.
      const newQuarter = q > quarter && q < 4;
      if (q > quarter) quarter = q;
      if (newQuarter || now - lastDraw >= LOG_INTERVAL_MS) log(now);
    },
    done() {
      if (finished) return;
      finished = true;
      const now = clock.now();
      if (tty) {
        redraw(now);
        stream.write('\n');
        return;
      }
      const seconds = (now - started) / 1000;
      stream.write(
        `${opts.label} done: ${fmt(count)}${unit} in ${duration(seconds)} (${fmt(Math.round(rate(now)))}/s)\n`,
      );
    },
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** "0.4s", "42s", "3m05s", "2h07m": short enough for a status line. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
