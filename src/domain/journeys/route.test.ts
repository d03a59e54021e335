import { describe, expect, it } from 'vitest';
import type { EngagementEvent } from '../engagement/apply.js';
import type { EventType, NormalizedEvent } from '../event.js';
import { compileIndex, type StoredVersion } from './compile.js';
import { emptyRouting, JourneyIndex, route, routingSize, type EntryRow, type RouteInput } from './route.js';

const NOW = Date.UTC(2026, 2, 1, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Json = Record<string, unknown>;

/** A NormalizedEvent as ingestion hands it to routing: the payload is the stored message, properties included. */
function ev(
  name: string,
  at: number,
  properties: Json = {},
  opts: { type?: EventType; messageId?: string } = {},
): NormalizedEvent {
  const type = opts.type ?? 'track';
  const messageId = opts.messageId ?? `m-${name}-${at}`;
  const message = {
    type,
    messageId,
    userId: 'u1',
    ...(type === 'track' ? { event: name } : { name }),
    properties,
    context: {},
    timestamp: new Date(at).toISOString(),
    receivedAt: new Date(at).toISOString(),
  };
  return {
    messageId,
    type,
    name,
    userId: 'u1',
    anonymousId: null,
    previousId: null,
    groupId: null,
    traits: null,
    context: {},
    timestamp: at,
    receivedAt: at,
    payload: JSON.stringify(message),
  };
}

function engagement(profileId: string, type: EngagementEvent['type'], subject: string): EngagementEvent {
  return { profileId, at: NOW, type, subject, properties: {} };
}

/** A journey definition: sends once and exits, unless `steps` says otherwise. */
function def(extra: Json, steps?: Json, start = 'hello'): Json {
  return {
    name: 'J',
    trigger: { event: 'Signed Up' },
    start,
    steps: steps ?? {
      hello: { type: 'send', channel: 'email', template: 'welcome', next: 'done' },
      done: { type: 'exit' },
    },
    ...extra,
  };
}

function index(...defs: (Json | StoredVersion)[]): JourneyIndex {
  return compileIndex(
    1,
    defs.map((d, i) =>
      'definition' in d
        ? (d as unknown as StoredVersion)
        : { journeyId: `j${i + 1}`, version: 1, definition: d, live: true },
    ),
  );
}

function entry(over: Partial<EntryRow> = {}): EntryRow {
  return {
    id: 'old-1',
    journeyId: 'j1',
    version: 1,
    profileId: 'p1',
    state: 'active',
    step: 'hello',
    phase: 'enter',
    waitingFor: null,
    stepSince: NOW - DAY,
    enteredAt: NOW - DAY,
    convertedAt: null,
    ...over,
  };
}

function input(opts: {
  events?: NormalizedEvent[];
  engagement?: EngagementEvent[];
  entries?: EntryRow[];
  segments?: readonly string[];
}): RouteInput {
  let n = 0;
  const entries = new Map<string, EntryRow[]>();
  for (const e of opts.entries ?? []) entries.set(e.profileId, [...(entries.get(e.profileId) ?? []), e]);
  return {
    now: NOW,
    events: (opts.events ?? []).map((event) => ({ profileId: 'p1', event })),
    engagement: opts.engagement ?? [],
    segmentsOf: () => opts.segments ?? [],
    entries,
    newEntryId: () => `new-${++n}`,
  };
}

describe('entering event-triggered journeys', () => {
  const idx = index(
    def({ trigger: { event: 'Order Completed', where: [{ property: 'total', op: 'gte', value: 100 }] } }),
  );

  it('enters on an event that matches the where filter', () => {
    const r = route(idx, input({ events: [ev('Order Completed', NOW - 1000, { total: 150 })] }));
    expect(r).toEqual({
      ...emptyRouting(),
      enter: [
        {
          id: 'new-1',
          journeyId: 'j1',
          version: 1,
          profileId: 'p1',
          step: 'hello',
          enteredAt: NOW,
          trigger: 'performed Order Completed',
          // templates of the journey read this event as `event`
          triggerMessageId: `m-Order Completed-${NOW - 1000}`,
        },
      ],
    });
    expect(routingSize(r)).toBe(1);
  });

  it('does not enter on an event the filter rejects, another name, or another type', () => {
    const r = route(
      idx,
      input({
        events: [
          ev('Order Completed', NOW, { total: 50 }),
          ev('Order Completed', NOW, {}),
          ev('Order Cancelled', NOW, { total: 150 }),
          ev('Order Completed', NOW, { total: 150 }, { type: 'page' }),
        ],
      }),
    );
    expect(routingSize(r)).toBe(0);
  });
});

describe('entry limits', () => {
  const signUp = (at = NOW) => ev('Signed Up', at, {}, { messageId: `m-${at}` });

  it('once: never again after any earlier entry, and once per batch', () => {
    const idx = index(def({ entry: { limit: 'once' } }));
    expect(route(idx, input({ events: [signUp(NOW - 2), signUp(NOW - 1)] })).enter).toHaveLength(1);
    expect(
      route(idx, input({ events: [signUp()], entries: [entry({ state: 'completed' })] })).enter,
    ).toHaveLength(0);
    expect(
      route(idx, input({ events: [signUp()], entries: [entry({ state: 'exited' })] })).enter,
    ).toHaveLength(0);
    // an entry in another journey does not count
    expect(
      route(idx, input({ events: [signUp()], entries: [entry({ journeyId: 'j9', state: 'completed' })] }))
        .enter,
    ).toHaveLength(1);
  });

  it('once_per_days: again only when the last entry is that many days old', () => {
    const idx = index(def({ entry: { limit: { once_per_days: 7 } } }));
    const after = (enteredAt: number) =>
      route(idx, input({ events: [signUp()], entries: [entry({ state: 'completed', enteredAt })] })).enter
        .length;
    expect(after(NOW - 6 * DAY)).toBe(0);
    expect(after(NOW - 7 * DAY + 1)).toBe(0);
    expect(after(NOW - 7 * DAY)).toBe(1);
    expect(after(NOW - 8 * DAY)).toBe(1);
    // the most recent entry counts, not the first
    const both = input({
      events: [signUp()],
      entries: [
        entry({ id: 'a', state: 'completed', enteredAt: NOW - 30 * DAY }),
        entry({ id: 'b', state: 'exited', enteredAt: NOW - DAY }),
      ],
    });
    expect(route(idx, both).enter).toHaveLength(0);
    expect(route(idx, input({ events: [signUp(NOW - 2), signUp(NOW - 1)] })).enter).toHaveLength(1);
  });

  it('every_time: again after each entry ends, but never while one is active', () => {
    const idx = index(def({ entry: { limit: 'every_time' } }));
    expect(
      route(
        idx,
        input({ events: [signUp()], entries: [entry({ state: 'completed', enteredAt: NOW - HOUR })] }),
      ).enter,
    ).toHaveLength(1);
    expect(
      route(idx, input({ events: [signUp()], entries: [entry({ state: 'active' })] })).enter,
    ).toHaveLength(0);
    // the first event of the batch enters; the second finds that entry active
    expect(route(idx, input({ events: [signUp(NOW - 2), signUp(NOW - 1)] })).enter).toHaveLength(1);
  });

  it('an active entry blocks under every limit', () => {
    for (const limit of ['once', 'every_time', { once_per_days: 1 }]) {
      const idx = index(def({ entry: { limit } }));
      const r = route(idx, input({ events: [signUp()], entries: [entry({ enteredAt: NOW - 30 * DAY })] }));
      expect(r.enter, JSON.stringify(limit)).toHaveLength(0);
    }
  });

  it('an entry that the batch exits no longer blocks a re-entry (every_time)', () => {
    const idx = index(def({ entry: { limit: 'every_time' }, exit_when: { event: 'Unsubscribed' } }));
    const r = route(
      idx,
      input({ events: [ev('Unsubscribed', NOW - 2), signUp(NOW - 1)], entries: [entry({ id: 'old-1' })] }),
    );
    expect(r.exit).toEqual([{ entryId: 'old-1', reason: 'exit criteria: Unsubscribed' }]);
    expect(r.enter).toHaveLength(1);
  });
});

describe('entry segment', () => {
  it('lets in only customers in the segment (after this batch)', () => {
    const idx = index(def({ entry: { segment: 'seg_vip' } }));
    expect(route(idx, input({ events: [ev('Signed Up', NOW)], segments: [] })).enter).toHaveLength(0);
    expect(route(idx, input({ events: [ev('Signed Up', NOW)], segments: ['seg_churn'] })).enter).toHaveLength(
      0,
    );
    expect(
      route(idx, input({ events: [ev('Signed Up', NOW)], segments: ['seg_churn', 'seg_vip'] })).enter,
    ).toHaveLength(1);
  });
});

describe('engagement triggers', () => {
  const idx = index(
    def({ trigger: { stage_entered: 'loyal' } }),
    def({ trigger: { segment_entered: 'seg_vip' } }),
    def({ trigger: { segment_exited: 'seg_vip' } }),
  );

  it('enter on Stage Entered, Segment Entered and Segment Exited of their subject', () => {
    const r = route(
      idx,
      input({
        engagement: [
          engagement('p1', 'Stage Entered', 'loyal'),
          engagement('p2', 'Segment Entered', 'seg_vip'),
          engagement('p3', 'Segment Exited', 'seg_vip'),
        ],
      }),
    );
    expect(r.enter.map((e) => [e.journeyId, e.profileId, e.trigger, e.step, e.enteredAt])).toEqual([
      ['j1', 'p1', 'entered stage loyal', 'hello', NOW],
      ['j2', 'p2', 'entered segment seg_vip', 'hello', NOW],
      ['j3', 'p3', 'left segment seg_vip', 'hello', NOW],
    ]);
  });

  it('ignore other stages and segments, and events of the same name', () => {
    const r = route(
      idx,
      input({
        events: [ev('Stage Entered', NOW, { stage: 'loyal' })],
        engagement: [
          engagement('p1', 'Stage Entered', 'dormant'),
          engagement('p1', 'Segment Entered', 'seg_churn'),
          engagement('p1', 'Segment Exited', 'seg_churn'),
        ],
      }),
    );
    expect(routingSize(r)).toBe(0);
  });
});

describe('waking waiting entries', () => {
  const idx = index(
    def(
      {},
      {
        wait: {
          type: 'wait_for_event',
          event: 'Email Opened',
          where: [{ property: 'campaign', op: 'eq', value: 'welcome' }],
          timeout: '3d',
          next: 'done',
          timeout_next: 'done',
        },
        done: { type: 'exit' },
      },
      'wait',
    ),
  );
  const since = NOW - HOUR;
  const waiting = entry({ step: 'wait', phase: 'waiting', waitingFor: 'Email Opened', stepSince: since });
  const opened = (at: number, campaign = 'welcome', messageId?: string) =>
    ev('Email Opened', at, { campaign }, { messageId: messageId ?? `m-${at}-${campaign}` });

  it('wakes on a matching event at or after the wait started', () => {
    const r = route(idx, input({ events: [opened(since, 'welcome', 'm-open')], entries: [waiting] }));
    expect(r).toEqual({
      ...emptyRouting(),
      wake: [{ entryId: 'old-1', signal: { event: 'Email Opened', messageId: 'm-open', at: since } }],
    });
  });

  it('not on events from before the wait, that fail the filter, or of another type', () => {
    const r = route(
      idx,
      input({
        events: [
          opened(since - 1),
          opened(NOW, 'other'),
          ev('Email Opened', NOW, { campaign: 'welcome' }, { type: 'screen' }),
        ],
        entries: [waiting],
      }),
    );
    expect(routingSize(r)).toBe(0);
  });

  it('not entries that are not waiting for it', () => {
    const r = route(
      idx,
      input({
        events: [opened(NOW)],
        entries: [
          entry({ id: 'a', step: 'wait', phase: 'enter', waitingFor: null, stepSince: since }),
          entry({ id: 'b', step: 'wait', phase: 'waiting', waitingFor: 'Email Clicked', stepSince: since }),
          entry({
            id: 'c',
            step: 'wait',
            phase: 'waiting',
            waitingFor: 'Email Opened',
            stepSince: since,
            state: 'exited',
          }),
          entry({
            id: 'd',
            journeyId: 'j-unknown',
            step: 'wait',
            phase: 'waiting',
            waitingFor: 'Email Opened',
            stepSince: since,
          }),
        ],
      }),
    );
    expect(routingSize(r)).toBe(0);
  });

  it('once per wait, with the earliest matching event', () => {
    const r = route(
      idx,
      input({
        events: [opened(NOW, 'welcome', 'm-late'), opened(since + 10, 'welcome', 'm-early')],
        entries: [waiting],
      }),
    );
    expect(r.wake).toEqual([
      { entryId: 'old-1', signal: { event: 'Email Opened', messageId: 'm-early', at: since + 10 } },
    ]);
  });

  it('by the steps of the version the entry is on, not the live one', () => {
    const versions = index(
      {
        journeyId: 'j1',
        version: 1,
        live: false,
        definition: def(
          {},
          {
            wait: {
              type: 'wait_for_event',
              event: 'Email Opened',
              timeout: '3d',
              next: 'done',
              timeout_next: 'done',
            },
            done: { type: 'exit' },
          },
          'wait',
        ),
      },
      // the live version has no wait step at all
      { journeyId: 'j1', version: 2, live: true, definition: def({}) },
    );
    const r = route(versions, input({ events: [opened(NOW)], entries: [waiting] }));
    expect(r.wake.map((w) => w.entryId)).toEqual(['old-1']);
  });
});

describe('exit criteria', () => {
  const idx = index(
    def({
      exit_when: [
        { event: 'Unsubscribed', where: [{ property: 'all', op: 'eq', value: true }] },
        { segment: 'seg_churn' },
      ],
    }),
  );

  it('an exit event ends active entries', () => {
    const r = route(
      idx,
      input({
        events: [ev('Unsubscribed', NOW, { all: true })],
        entries: [
          entry({ id: 'active' }),
          entry({ id: 'done', state: 'completed' }),
          entry({ id: 'gone', state: 'exited' }),
        ],
      }),
    );
    expect(r).toEqual({
      ...emptyRouting(),
      exit: [{ entryId: 'active', reason: 'exit criteria: Unsubscribed' }],
    });
  });

  it('not on events that fail the filter or came before the entry', () => {
    const r = route(
      idx,
      input({
        events: [ev('Unsubscribed', NOW, { all: false }), ev('Unsubscribed', NOW - 2 * DAY, { all: true })],
        entries: [entry({ enteredAt: NOW - DAY })],
      }),
    );
    expect(routingSize(r)).toBe(0);
  });

  it('an exit event wins over a wake of the same entry', () => {
    const waitIdx = index(
      def(
        { exit_when: { event: 'Email Opened', where: [{ property: 'spam', op: 'eq', value: true }] } },
        {
          wait: {
            type: 'wait_for_event',
            event: 'Email Opened',
            timeout: '1d',
            next: 'done',
            timeout_next: 'done',
          },
          done: { type: 'exit' },
        },
        'wait',
      ),
    );
    const r = route(
      waitIdx,
      input({
        events: [ev('Email Opened', NOW, { spam: true })],
        entries: [
          entry({ step: 'wait', phase: 'waiting', waitingFor: 'Email Opened', stepSince: NOW - HOUR }),
        ],
      }),
    );
    expect(r.exit).toHaveLength(1);
    expect(r.wake).toHaveLength(0);
  });

  it('entering an exit segment ends active entries', () => {
    const r = route(
      idx,
      input({
        engagement: [
          engagement('p1', 'Segment Entered', 'seg_churn'),
          engagement('p1', 'Segment Entered', 'seg_vip'),
        ],
        entries: [entry({ id: 'active' }), entry({ id: 'done', state: 'completed' })],
      }),
    );
    expect(r).toEqual({
      ...emptyRouting(),
      exit: [{ entryId: 'active', reason: 'exit criteria: entered segment seg_churn' }],
    });
    // leaving it does not
    expect(
      routingSize(
        route(
          idx,
          input({ engagement: [engagement('p1', 'Segment Exited', 'seg_churn')], entries: [entry()] }),
        ),
      ),
    ).toBe(0);
  });
});

describe('goal conversions', () => {
  const idx = index(
    def({
      goal: { event: 'Order Completed', where: [{ property: 'total', op: 'gt', value: 0 }], within: '7d' },
    }),
  );
  const entered = NOW - 3 * DAY;

  it('convert on a goal event within the window of the entry', () => {
    const r = route(
      idx,
      input({
        events: [ev('Order Completed', NOW, { total: 10 })],
        entries: [entry({ enteredAt: entered })],
      }),
    );
    expect(r).toEqual({
      ...emptyRouting(),
      convert: [{ entryId: 'old-1', at: NOW, event: 'Order Completed', value: 10 }],
    });
    // the window's last instant counts; a completed entry still converts
    const edge = entered + 7 * DAY;
    const r2 = route(
      idx,
      input({
        events: [ev('Order Completed', edge, { total: 10 })],
        entries: [entry({ enteredAt: entered, state: 'completed' })],
      }),
    );
    expect(r2.convert).toEqual([{ entryId: 'old-1', at: edge, event: 'Order Completed', value: 10 }]);
  });

  it('not outside the window, before the entry, on a filtered-out event, or twice', () => {
    const none = (events: NormalizedEvent[], e: EntryRow = entry({ enteredAt: entered })) =>
      routingSize(route(idx, input({ events, entries: [e] })));
    expect(none([ev('Order Completed', entered + 7 * DAY + 1, { total: 10 })])).toBe(0);
    expect(none([ev('Order Completed', entered - 1, { total: 10 })])).toBe(0);
    expect(none([ev('Order Completed', NOW, { total: 0 })])).toBe(0);
    expect(
      none(
        [ev('Order Completed', NOW, { total: 10 })],
        entry({ enteredAt: entered, convertedAt: NOW - DAY }),
      ),
    ).toBe(0);
    const r = route(
      idx,
      input({
        events: [
          ev('Order Completed', NOW - 2, { total: 10 }),
          ev('Order Completed', NOW - 1, { total: 20 }),
        ],
        entries: [entry({ enteredAt: entered })],
      }),
    );
    // the first conversion counts, with its own value (`total`: no `revenue` here)
    expect(r.convert).toEqual([{ entryId: 'old-1', at: NOW - 2, event: 'Order Completed', value: 10 }]);
  });
});

describe('entries created by the batch', () => {
  it("are not woken, exited or converted by that batch's events", () => {
    const idx = index(
      def(
        {
          exit_when: [{ event: 'Unsubscribed' }, { segment: 'seg_churn' }],
          goal: { event: 'Order Completed', within: '7d' },
        },
        {
          wait: {
            type: 'wait_for_event',
            event: 'Email Opened',
            timeout: '1d',
            next: 'done',
            timeout_next: 'done',
          },
          done: { type: 'exit' },
        },
        'wait',
      ),
    );
    const r = route(
      idx,
      input({
        // all at the batch's own time, so only their being new keeps them from matching
        events: [
          ev('Signed Up', NOW),
          ev('Email Opened', NOW),
          ev('Order Completed', NOW),
          ev('Unsubscribed', NOW),
        ],
        engagement: [engagement('p1', 'Segment Entered', 'seg_churn')],
      }),
    );
    expect(r).toEqual({
      ...emptyRouting(),
      enter: [expect.objectContaining({ id: 'new-1', journeyId: 'j1', step: 'wait' })],
    });
  });

  it('including those entered by an engagement trigger', () => {
    const idx = index(def({ trigger: { stage_entered: 'loyal' }, exit_when: { segment: 'seg_churn' } }));
    const r = route(
      idx,
      input({
        engagement: [
          engagement('p1', 'Stage Entered', 'loyal'),
          engagement('p1', 'Segment Entered', 'seg_churn'),
        ],
      }),
    );
    expect(r.enter).toHaveLength(1);
    expect(r.exit).toHaveLength(0);
  });
});

describe('JourneyIndex.concerned', () => {
  const idx = index(
    def(
      {
        trigger: { event: 'Signed Up' },
        goal: { event: 'Order Completed', within: '7d' },
        exit_when: [{ event: 'Unsubscribed' }, { segment: 'seg_churn' }],
      },
      {
        wait: {
          type: 'wait_for_event',
          event: 'Email Opened',
          timeout: '1d',
          next: 'done',
          timeout_next: 'done',
        },
        done: { type: 'exit' },
      },
      'wait',
    ),
    def({ trigger: { stage_entered: 'loyal' } }),
  );
  const at = (profileId: string, name: string) => ({ profileId, event: ev(name, NOW) });

  it('is empty when nothing in the batch concerns a journey', () => {
    expect(idx.concerned([at('p1', 'Page Viewed'), at('p2', 'Product Added')], [])).toEqual([]);
    expect(
      idx.concerned(
        [],
        [
          engagement('p1', 'Stage Entered', 'dormant'),
          engagement('p1', 'Segment Entered', 'seg_vip'),
          engagement('p1', 'Segment Exited', 'seg_churn'),
        ],
      ),
    ).toEqual([]);
    const identify = { profileId: 'p1', event: { ...ev('x', NOW), type: 'identify' as const, name: null } };
    expect(idx.concerned([identify], [])).toEqual([]);
    expect(
      new JourneyIndex(1, [], []).concerned(
        [at('p1', 'Signed Up')],
        [engagement('p1', 'Stage Entered', 'loyal')],
      ),
    ).toEqual([]);
  });

  it('names, sorted and once each, the profiles with a trigger, a listened event or an exit segment', () => {
    expect(
      idx.concerned(
        [
          at('p5', 'Signed Up'),
          at('p4', 'Email Opened'),
          at('p3', 'Order Completed'),
          at('p2', 'Unsubscribed'),
          at('p5', 'Email Opened'),
          at('p9', 'Other'),
        ],
        [
          engagement('p1', 'Stage Entered', 'loyal'),
          engagement('p6', 'Segment Entered', 'seg_churn'),
          engagement('p7', 'Segment Exited', 'seg_churn'),
        ],
      ),
    ).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  it('still listens for events of versions that are no longer live', () => {
    const old = index(
      {
        journeyId: 'j1',
        version: 1,
        live: false,
        definition: def({ goal: { event: 'Order Completed', within: '7d' } }),
      },
      { journeyId: 'j1', version: 2, live: true, definition: def({}) },
    );
    expect(old.concerned([at('p1', 'Order Completed')], [])).toEqual(['p1']);
    expect(old.byEvent.get('Signed Up')?.map((j) => j.version)).toEqual([2]);
  });
});
