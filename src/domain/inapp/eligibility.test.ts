import { describe, expect, it } from 'vitest';
import { messageDefinition, messageSchema, type MessageDefinition } from './definition.js';
import { assign, eligibleCards, eligibleMessages, type ActiveCard, type Audience } from './eligibility.js';

const T0 = Date.UTC(2026, 10, 1);

function msg(id: string, over: Record<string, unknown> = {}): { id: string; definition: MessageDefinition } {
  const parsed = messageSchema.parse({
    name: id,
    type: 'modal',
    trigger: { kind: 'exit_intent' },
    content: { body: 'hi' },
    ...over,
  });
  return { id, definition: messageDefinition(parsed) };
}

const who = (over: Partial<Audience> = {}): Audience => ({
  profileId: 'p1',
  drawKey: 'p1',
  segments: new Set(),
  stage: null,
  journeySteps: new Set(),
  counts: new Map(),
  cardStates: new Map(),
  sessionId: null,
  ...over,
});

const ids = (list: { message: { id: string } }[]) => list.map((m) => m.message.id);

describe('in-app eligibility', () => {
  it('matches targeting: any of a kind, every kind; visitors without a profile only "everyone"', () => {
    const m = [
      msg('all'),
      msg('vip', { targeting: { segments: ['vip', 'gold'] } }),
      msg('vip-loyal', { targeting: { segments: ['vip'], stages: ['loyal'] } }),
      msg('step', { targeting: { journeySteps: [{ journeyId: 'j1', step: 'wait' }] } }),
    ];
    expect(ids(eligibleMessages(m, who({ segments: new Set(['gold']) }), T0))).toEqual(['all', 'vip']);
    expect(ids(eligibleMessages(m, who({ segments: new Set(['vip']), stage: 'loyal' }), T0))).toEqual([
      'all',
      'vip',
      'vip-loyal',
    ]);
    expect(ids(eligibleMessages(m, who({ journeySteps: new Set(['j1/wait']) }), T0))).toEqual([
      'all',
      'step',
    ]);
    const visitor = who({ profileId: null, segments: new Set(['vip']), stage: 'loyal' });
    expect(ids(eligibleMessages(m, visitor, T0))).toEqual(['all']);
  });

  it('applies frequency, schedule and priority', () => {
    const m = [
      msg('once', { priority: 1 }),
      msg('thrice', { frequency: { kind: 'times', max: 3 }, priority: 5 }),
      msg('visit', { frequency: { kind: 'every_visit' } }),
      msg('later', { startAt: new Date(T0 + 10).toISOString() }),
      msg('over', { endAt: new Date(T0).toISOString() }),
    ];
    const counts = new Map([
      ['once', { impressions: 1, lastSession: 's1' }],
      ['thrice', { impressions: 2, lastSession: 's1' }],
      ['visit', { impressions: 7, lastSession: 's1' }],
    ]);
    expect(ids(eligibleMessages(m, who({ counts, sessionId: 's1' }), T0))).toEqual(['thrice']);
    expect(ids(eligibleMessages(m, who({ counts, sessionId: 's2' }), T0 + 10))).toEqual([
      'thrice',
      'later',
      'visit',
    ]);
  });

  it('assigns control and variants deterministically and by weight', () => {
    const m = msg('ab', {
      controlPercent: 10,
      content: undefined,
      variants: [
        { key: 'a', weight: 1, content: { body: 'A' } },
        { key: 'b', weight: 1, content: { body: 'B' } },
      ],
    });
    const arms = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const a = assign(m, `p${i}`);
      expect(assign(m, `p${i}`)).toEqual(a);
      const k = a.control ? 'control' : a.variant.key;
      arms.set(k, (arms.get(k) ?? 0) + 1);
    }
    expect(arms.get('control')! / 10_000).toBeCloseTo(0.1, 1);
    expect(arms.get('a')! / arms.get('b')!).toBeGreaterThan(0.9);
    expect(arms.get('a')! / arms.get('b')!).toBeLessThan(1.1);
  });

  it('lists cards: own and targeted, live, not dismissed, pinned then newest', () => {
    const def = (over: Partial<ActiveCard['definition']> = {}): ActiveCard['definition'] => ({
      name: 'c',
      title: 't',
      body: '',
      imageUrl: null,
      url: null,
      pinned: false,
      targeting: { segments: [], stages: [], journeySteps: [] },
      startAt: null,
      expiresAt: null,
      ...over,
    });
    const cards: ActiveCard[] = [
      { id: 'old', profileId: null, definition: def(), createdAt: T0 - 10 },
      { id: 'new', profileId: null, definition: def(), createdAt: T0 - 1 },
      { id: 'pin', profileId: null, definition: def({ pinned: true }), createdAt: T0 - 20 },
      { id: 'theirs', profileId: 'p2', definition: def(), createdAt: T0 },
      { id: 'mine', profileId: 'p1', definition: def(), createdAt: T0 - 5 },
      { id: 'expired', profileId: null, definition: def({ expiresAt: T0 }), createdAt: T0 },
      {
        id: 'vip',
        profileId: null,
        definition: def({ targeting: { segments: ['vip'], stages: [], journeySteps: [] } }),
        createdAt: T0,
      },
      { id: 'gone', profileId: null, definition: def(), createdAt: T0 },
    ];
    const states = new Map([['gone', { readAt: null, dismissedAt: T0 - 1 }]]);
    expect(eligibleCards(cards, who({ cardStates: states }), T0).map((c) => c.id)).toEqual([
      'pin',
      'new',
      'mine',
      'old',
    ]);
  });
});
