import { describe, expect, it } from 'vitest';
import {
  abTestJson,
  chooseWinner,
  readAbTest,
  REST_SEND_STEP,
  winnerDefinition,
  type AbTest,
} from './ab-test.js';

const test: AbTest = {
  split: 'ab',
  rest: 'rest',
  hold: 'hold',
  channel: 'email',
  variants: { A: 'offer-a', B: 'offer-b' },
  metric: 'conversion',
  decideAfterMs: 4 * 3_600_000,
  winner: null,
  decidedAt: null,
};
const arm = (name: string | null, entered: number, converted: number, valueSum = 0) => ({
  arm: name,
  entered,
  converted,
  valueSum,
  valueSumSquares: 0,
});

describe('A/B broadcast settings', () => {
  it('round-trips through the definition, and refuses malformed settings', () => {
    expect(readAbTest({ ab_test: abTestJson(test) })).toEqual(test);
    expect(readAbTest({ ab_test: { ...abTestJson(test), variants: { A: 'offer-a' } } })).toBeNull();
    expect(readAbTest({})).toBeNull();
  });

  it('takes the significant winner, else the best observed of the metric among the test variants', () => {
    const arms = [
      arm('A', 100, 10, 500),
      arm('B', 100, 12, 300),
      arm('rest', 800, 0),
      arm('control', 50, 40),
    ];
    expect(chooseWinner(test, arms, 'A')).toEqual({ arm: 'A', how: 'significant' });
    // Neither the rest nor the control can win, however well they did.
    expect(chooseWinner(test, arms, null)).toEqual({ arm: 'B', how: 'best observed' });
    expect(chooseWinner({ ...test, metric: 'revenue' }, arms, null)).toEqual({
      arm: 'A',
      how: 'best observed',
    });
    // A tie goes to the first by name; nobody tested, no winner.
    expect(chooseWinner(test, [arm('B', 10, 1), arm('A', 10, 1)], null)).toEqual({
      arm: 'A',
      how: 'best observed',
    });
    expect(chooseWinner(test, [arm('rest', 10, 1)], null)).toBeNull();
  });

  it('ends the hold at once into a send of the winner, keeping every other step', () => {
    const now = Date.UTC(2026, 10, 1, 13);
    const def = {
      name: 'Spring',
      steps: {
        ab: { type: 'split', variants: [] },
        send_A: { type: 'send', channel: 'email', template: 'offer-a', next: 'done' },
        hold: { type: 'delay', until: '2026-12-01T00:00:00.000Z', next: 'done' },
        done: { type: 'exit' },
      },
      ab_test: abTestJson(test),
    };
    const next = winnerDefinition(def, test, 'B', now);
    expect(next['steps']).toEqual({
      ...def.steps,
      hold: { type: 'delay', until: '2026-11-01T13:00:00.000Z', next: REST_SEND_STEP },
      [REST_SEND_STEP]: { type: 'send', channel: 'email', template: 'offer-b', next: 'done' },
    });
    expect(readAbTest(next)).toEqual({ ...test, winner: 'B', decidedAt: now });
    expect(def.steps.hold.until).toBe('2026-12-01T00:00:00.000Z');
  });
});
