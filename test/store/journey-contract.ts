import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { ClaimedEntry, EntryResult } from '../../src/store/journey-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;
const LEASE = 60_000;

/** A journey: on "Order Completed", send, wait up to 2 days for "Review Written", then send one of two. */
const REVIEW = {
  name: 'Ask for a review',
  trigger: { event: 'Order Completed' },
  entry: { limit: 'every_time' },
  start: 'thanks',
  steps: {
    thanks: { type: 'send', channel: 'email', template: 'thanks', next: 'wait' },
    wait: {
      type: 'wait_for_event',
      event: 'Review Written',
      timeout: '2d',
      next: 'reward',
      timeout_next: 'remind',
    },
    reward: { type: 'send', channel: 'email', template: 'reward', next: 'done' },
    remind: { type: 'send', channel: 'email', template: 'remind', next: 'done' },
    done: { type: 'exit' },
  },
  exit_when: { event: 'Refund Requested' },
};

/**
 * The journey half of the store contract (src/store/journey-store.ts), run unchanged on every adapter.
 * Results are built by hand here, as the runner would build them, so the store's own guarantees are
 * what is tested: routing inside ingestion, exclusive claims, leases, stale results dropped.
 */
export function journeyContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} journey store contract`, () => {
    let h: StoreHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;
    const opened: Store[] = [];
    const open = async () => {
      const s = await h.open(clock);
      opened.push(s);
      return s;
    };
    const track = (userId: string, name: string, messageId: string, extra: { anonymousId?: string } = {}) =>
      testEvent({ userId, name, messageId, timestamp: clock.now(), ...extra });
    const publish = async (definition: unknown, id = 'jr_review') => {
      await store.createJourney(
        ws,
        { id, name: (definition as { name: string }).name, draft: definition },
        clock.now(),
      );
      return store.publishJourney(ws, id, { definition, migrate: false, nextRunAt: null }, clock.now());
    };
    /** What the runner would store for a claimed entry: one step, then wait or end. */
    const result = (e: ClaimedEntry, over: Partial<EntryResult>): EntryResult => ({
      workspaceId: e.workspaceId,
      entryId: e.id,
      claim: e.claim,
      profileId: e.profileId,
      journeyId: e.journeyId,
      state: 'active',
      position: { step: 'wait', phase: 'waiting', stepsTaken: 1, signal: null },
      dueAt: clock.now() + 2 * DAY,
      waitingFor: 'Review Written',
      exitReason: null,
      log: [{ step: 'thanks', type: 'send', at: clock.now(), outcome: 'email thanks queued' }],
      actions: [],
      messages: [
        {
          key: `${e.id}:thanks:0`,
          step: 'thanks',
          channel: 'email',
          template: 'thanks',
          payload: { subject: 'Thanks' },
          topic: 'marketing',
          status: 'queued',
          nextAttemptAt: clock.now(),
          reason: null,
        },
      ],
      ...over,
    });

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await open();
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('keeps drafts apart from frozen versions and refuses duplicate names', async () => {
      const j = await store.createJourney(ws, { id: 'jr_1', name: 'Welcome', draft: REVIEW }, T0);
      expect(j).toMatchObject({ status: 'draft', version: 0 });
      await expect(
        store.createJourney(ws, { id: 'jr_2', name: 'Welcome', draft: REVIEW }, T0),
      ).rejects.toMatchObject({
        name: 'ConflictError',
      });
      expect(
        await store.publishJourney(ws, 'jr_1', { definition: REVIEW, migrate: false, nextRunAt: null }, T0),
      ).toEqual({
        version: 1,
        migrated: 0,
      });
      await store.updateJourneyDraft(
        ws,
        'jr_1',
        { name: 'Welcome', draft: { ...REVIEW, name: 'changed' } },
        T0 + 1,
      );
      expect(await store.getJourneyVersion(ws, 'jr_1', 1)).toEqual(REVIEW);
      expect((await store.getJourney(ws, 'jr_1'))?.draft).toMatchObject({ name: 'changed' });
      expect(await store.getJourneyVersion(ws, 'jr_1', 2)).toBeNull();
      await expect(store.setJourneyStatus(ws, 'jr_none', 'paused', T0)).rejects.toMatchObject({
        name: 'NotFoundError',
      });
      expect((await store.listJourneys(ws)).map((x) => x.id)).toEqual(['jr_1']);
    });

    it('publishes over a given version at most once when two processes race (an A/B winner claim)', async () => {
      await publish(REVIEW);
      const other = await open();
      const winner = (template: string) => ({
        ...REVIEW,
        steps: { ...REVIEW.steps, reward: { ...REVIEW.steps.reward, template } },
      });
      const race = await Promise.allSettled(
        [store, other, store, other].map((s, i) =>
          s.publishJourney(
            ws,
            'jr_review',
            { definition: winner(`v${i}`), migrate: true, nextRunAt: null, ifVersion: 1 },
            clock.now(),
          ),
        ),
      );
      const won = race.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(won[0]!.value.version).toBe(2);
      for (const r of race.filter((x) => x.status === 'rejected')) {
        expect((r.reason as Error).name).toBe('ConflictError');
      }
      const j = await store.getJourney(ws, 'jr_review');
      expect(j!.version).toBe(2);
      expect(await store.getJourneyVersion(ws, 'jr_review', 3)).toBeNull();
      // without ifVersion publishing goes on as before
      const again = await store.publishJourney(
        ws,
        'jr_review',
        { definition: REVIEW, migrate: false, nextRunAt: null },
        clock.now(),
      );
      expect(again.version).toBe(3);
    });

    it('enters customers on the trigger inside ingestion, once per trigger event', async () => {
      await store.ingest(ws, [track('u1', 'Order Completed', 'o0')]);
      await publish(REVIEW);
      const r = await store.ingest(ws, [
        track('u1', 'Order Completed', 'o1'),
        track('u2', 'Product Viewed', 'v1'),
      ]);
      expect(r.journeyWork).toBe(1);
      // A retried request stores nothing and enters nobody again.
      expect((await store.ingest(ws, [track('u1', 'Order Completed', 'o1')])).journeyWork).toBe(0);
      const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!;
      const entries = await store.listProfileEntries(ws, u1.id);
      expect(entries).toMatchObject([
        { journeyId: 'jr_review', version: 1, state: 'active', step: 'thanks', phase: 'enter' },
      ]);
      expect(entries[0]!.history).toEqual([
        { at: T0, step: 'thanks', type: 'entry', outcome: 'entered: performed Order Completed' },
      ]);
    });

    it('claims each due entry for one worker at a time, records sends once, and drops stale results', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [track('u1', 'Order Completed', 'o1')]);
      const other = await open();
      const [a, b] = await Promise.all([
        store.claimDueEntries('w1', 10, clock.now(), LEASE),
        other.claimDueEntries('w2', 10, clock.now(), LEASE),
      ]);
      expect(a.length + b.length).toBe(1);
      const claimed = [...a, ...b][0]!;
      expect(claimed.position).toEqual({ step: 'thanks', phase: 'enter', stepsTaken: 0, signal: null });
      // While the lease lasts nobody else gets it; after it ends (the worker died) someone does.
      expect(await store.claimDueEntries('w3', 10, clock.now() + LEASE - 1, LEASE)).toEqual([]);
      clock.advance(LEASE);
      const again = await other.claimDueEntries('w3', 10, clock.now(), LEASE);
      expect(again.map((e) => e.id)).toEqual([claimed.id]);
      expect(again[0]!.claim).not.toBe(claimed.claim);
      // The first worker wakes up and completes: its claim is gone, so nothing of it is stored.
      expect(await store.completeEntries([result(claimed, {})], clock.now())).toBe(0);
      expect(await store.completeEntries([result(again[0]!, {})], clock.now())).toBe(1);
      // Completing twice (a retried commit) changes nothing either.
      expect(await store.completeEntries([result(again[0]!, {})], clock.now())).toBe(0);
      const msgs = await store.listJourneyMessages(ws, { journeyId: 'jr_review', limit: 10 });
      expect(msgs).toMatchObject([{ key: `${claimed.id}:thanks:0`, channel: 'email', template: 'thanks' }]);
      const [entry] = await store.listProfileEntries(ws, claimed.profileId);
      expect(entry).toMatchObject({
        step: 'wait',
        phase: 'waiting',
        waitingFor: 'Review Written',
        dueAt: clock.now() + 2 * DAY,
      });
      expect(await store.claimDueEntries('w1', 10, clock.now(), LEASE)).toEqual([]);
    });

    it('wakes a waiting entry when its event arrives, even from under a worker timing it out', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [track('u1', 'Order Completed', 'o1')]);
      const [e] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      await store.completeEntries([result(e!, {})], clock.now());
      // An event from before the wait started does not count; one after it does.
      clock.advance(2 * DAY);
      const timingOut = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      expect(timingOut).toHaveLength(1);
      const r = await store.ingest(ws, [track('u1', 'Review Written', 'r1')]);
      expect(r.journeyWork).toBe(1);
      const timeoutResult = result(timingOut[0]!, {
        position: { step: 'remind', phase: 'enter', stepsTaken: 2, signal: null },
        dueAt: clock.now(),
        waitingFor: null,
      });
      expect(await store.completeEntries([timeoutResult], clock.now())).toBe(0);
      const [woken] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      expect(woken!.position.signal).toEqual({ event: 'Review Written', messageId: 'r1', at: clock.now() });
    });

    it('ends entries on exit criteria and counts goal conversions; pausing stops claims; archiving ends entries', async () => {
      await publish({ ...REVIEW, goal: { event: 'Order Completed', within: '7d' } });
      await store.ingest(ws, [track('u1', 'Order Completed', 'o1'), track('u2', 'Order Completed', 'o2')]);
      clock.advance(DAY);
      await store.ingest(ws, [track('u1', 'Refund Requested', 'x1')]);
      const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!;
      expect(await store.listProfileEntries(ws, u1.id)).toMatchObject([
        { state: 'exited', exitReason: 'exit criteria: Refund Requested', dueAt: null },
      ]);
      // every_time: u2's second order is a conversion for the running entry, not a second entry.
      await store.ingest(ws, [track('u2', 'Order Completed', 'o3')]);
      const u2 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u2' }))!;
      expect(await store.listProfileEntries(ws, u2.id)).toMatchObject([
        { state: 'active', convertedAt: clock.now() },
      ]);
      await store.setJourneyStatus(ws, 'jr_review', 'paused', clock.now());
      expect(await store.claimDueEntries('w1', 10, clock.now(), LEASE)).toEqual([]);
      await store.ingest(ws, [track('u3', 'Order Completed', 'o4')]);
      expect(
        await store
          .lookupProfile(ws, { kind: 'user_id', value: 'u3' })
          .then((p) => store.listProfileEntries(ws, p!.id)),
      ).toEqual([]);
      await store.setJourneyStatus(ws, 'jr_review', 'published', clock.now());
      expect(await store.claimDueEntries('w1', 10, clock.now(), LEASE)).toHaveLength(1);
      await store.setJourneyStatus(ws, 'jr_review', 'archived', clock.now());
      expect(await store.listProfileEntries(ws, u2.id)).toMatchObject([
        { state: 'exited', exitReason: 'journey archived' },
      ]);
      const stats = await store.getJourneyStats(ws, 'jr_review', T0 - DAY);
      expect(stats).toMatchObject({ entered: 2, active: 0, exited: 2, completed: 0, converted: 1 });
      await expect(store.setJourneyStatus(ws, 'jr_review', 'published', clock.now())).rejects.toMatchObject({
        name: 'ConflictError',
      });
    });

    it('keeps the first variant an entry drew and the value of its conversion, grouped for results', async () => {
      await publish({ ...REVIEW, goal: { event: 'Order Completed', within: '7d' } });
      await store.ingest(
        ws,
        ['u1', 'u2', 'u3'].map((u, i) => track(u, 'Order Completed', `o${i}`)),
      );
      const claimed = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      expect(claimed).toHaveLength(3);
      const arms = ['a', 'b', null];
      await store.completeEntries(
        claimed.map((e, i) => ({ ...result(e, {}), arm: arms[i] })),
        clock.now(),
      );
      // Woken later by a second split: the first variant stays.
      clock.advance(2 * DAY);
      const again = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      await store.completeEntries(
        again.map((e) => ({ ...result(e, {}), arm: 'z' })),
        clock.now(),
      );
      const profileOf = async (u: string) =>
        (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id;
      const u1 = await profileOf('u1');
      const first = claimed.find((e) => e.profileId === u1)!;
      const armOf = (e: { profileId: string }) => arms[claimed.findIndex((c) => c.profileId === e.profileId)];
      // Conversions: u1 with revenue 30.5, u2 with a string total "12", u3 with none.
      await store.ingest(ws, [
        testEvent({
          userId: 'u1',
          name: 'Order Completed',
          messageId: 'c1',
          timestamp: clock.now(),
          properties: { revenue: 30.5 },
        }),
        testEvent({
          userId: 'u2',
          name: 'Order Completed',
          messageId: 'c2',
          timestamp: clock.now(),
          properties: { total: '12' },
        }),
        testEvent({ userId: 'u3', name: 'Order Completed', messageId: 'c3', timestamp: clock.now() }),
      ]);
      const outcomes = await store.journeyOutcomes(ws, 'jr_review');
      // a and b stayed; the entry that had drawn none took z from the later split.
      expect(outcomes.map((o) => o.arm).sort()).toEqual(['a', 'b', 'z']);
      const byArm = new Map(outcomes.map((o) => [o.arm, o]));
      const u1Arm = armOf(first) ?? 'z';
      expect(byArm.get(u1Arm)).toEqual({
        arm: u1Arm,
        entered: 1,
        converted: 1,
        valueSum: 30.5,
        valueSumSquares: 930.25,
      });
      const total = outcomes.reduce(
        (t, o) => ({ n: t.n + o.entered, c: t.c + o.converted, s: t.s + o.valueSum }),
        { n: 0, c: 0, s: 0 },
      );
      expect(total).toEqual({ n: 3, c: 3, s: 42.5 });
    });

    it('enters on a segment change caused by time alone, and follows a merged customer', async () => {
      await store.changeDefinitions(
        ws,
        {
          kind: 'put_segment',
          segment: {
            id: 'seg_recent',
            name: 'Recent',
            description: '',
            rule: { event: 'Order Completed', within: { days: 7 } },
            status: 'ready',
          },
        },
        clock.now(),
      );
      const winBack = {
        name: 'Win back',
        trigger: { segment_exited: 'seg_recent' },
        start: 'coupon',
        steps: {
          coupon: { type: 'send', channel: 'email', template: 'coupon', next: 'done' },
          done: { type: 'exit' },
        },
      };
      await publish(winBack, 'jr_win');
      await store.ingest(ws, [
        testEvent({ anonymousId: 'anon', name: 'Order Completed', messageId: 'o1', timestamp: clock.now() }),
      ]);
      clock.advance(8 * DAY);
      const r = await store.reevaluateProfiles(ws, {
        after: null,
        limit: 100,
        now: clock.now(),
        rebuildFacts: false,
      });
      expect(r.changed).toBe(1);
      const [due] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      expect(due).toMatchObject({ journeyId: 'jr_win' });
      // The visitor signs in: the entry follows them to the surviving profile.
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'u9',
          anonymousId: 'anon',
          messageId: 'i1',
          timestamp: clock.now(),
        }),
      ]);
      const u9 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u9' }))!;
      expect((await store.listProfileEntries(ws, u9.id)).map((e) => e.id)).toEqual([due!.id]);
      // The runner reads a batch's profiles at once; an id merged away resolves to the survivor.
      const states = await store.getProfileStates(ws, [due!.profileId, u9.id, 'p_unknown']);
      expect([...states.keys()].sort()).toEqual([...new Set([due!.profileId, u9.id])].sort());
      expect(new Set([...states.values()].map((p) => p.id))).toEqual(new Set([u9.id]));
    });

    it('holds a paused journey: claims in flight are dropped, due times come back on resume', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [track('u1', 'Order Completed', 'o1'), track('u2', 'Order Completed', 'o2')]);
      const [first, second] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      await store.completeEntries([result(first!, {})], clock.now());
      const waitingUntil = clock.now() + 2 * DAY;
      // `second` is claimed when the journey is paused: its result must not land.
      await store.setJourneyStatus(ws, 'jr_review', 'paused', clock.now());
      expect(await store.completeEntries([result(second!, {})], clock.now())).toBe(0);
      const [held] = await store.listProfileEntries(ws, first!.profileId);
      expect(held).toMatchObject({ dueAt: null, step: 'wait' });
      clock.advance(3 * DAY);
      expect(await store.claimDueEntries('w1', 10, clock.now(), LEASE)).toEqual([]);
      await store.setJourneyStatus(ws, 'jr_review', 'published', clock.now());
      expect((await store.listProfileEntries(ws, first!.profileId))[0]).toMatchObject({
        dueAt: waitingUntil,
      });
      const resumed = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      expect(resumed.map((e) => e.id).sort()).toEqual([first!.id, second!.id].sort());
      expect(resumed.find((e) => e.id === second!.id)!.position).toMatchObject({
        step: 'thanks',
        phase: 'enter',
      });
    });

    it('keeps one running entry per journey when two customers merge into one', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [
        testEvent({
          anonymousId: 'visitor',
          name: 'Order Completed',
          messageId: 'o1',
          timestamp: clock.now(),
        }),
        track('u7', 'Order Completed', 'o2'),
      ]);
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'u7',
          anonymousId: 'visitor',
          messageId: 'i1',
          timestamp: clock.now(),
        }),
      ]);
      const u7 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u7' }))!;
      const entries = await store.listProfileEntries(ws, u7.id);
      expect(entries).toHaveLength(2);
      expect(entries.filter((e) => e.state === 'active')).toHaveLength(1);
      expect(entries.find((e) => e.state === 'exited')).toMatchObject({
        exitReason: 'merged: the customer was already in this journey under another identity',
        dueAt: null,
      });
      expect(await store.claimDueEntries('w1', 10, clock.now(), LEASE)).toHaveLength(1);
    });

    it('adds to and removes from static lists with the step results', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [track('u1', 'Order Completed', 'o1')]);
      const [e] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      await store.completeEntries(
        [result(e!, { actions: [{ kind: 'list', key: 'k1', step: 'thanks', op: 'add', list: 'vip' }] })],
        clock.now(),
      );
      expect(await store.listStaticListMembers(ws, 'vip', { limit: 10 })).toEqual([e!.profileId]);
      clock.advance(2 * DAY);
      const [e2] = await store.claimDueEntries('w1', 10, clock.now(), LEASE);
      await store.completeEntries(
        [result(e2!, { actions: [{ kind: 'list', key: 'k2', step: 'remind', op: 'remove', list: 'vip' }] })],
        clock.now(),
      );
      expect(await store.listStaticListMembers(ws, 'vip', { limit: 10 })).toEqual([]);
    });

    it('claims a due scheduled run for one worker, and enters each customer once per run', async () => {
      const weekly = {
        name: 'Weekly',
        trigger: { schedule: { segment: 'seg_all', at: new Date(T0 + DAY).toISOString(), every_days: 7 } },
        entry: { limit: 'once' },
        start: 'done',
        steps: { done: { type: 'exit' } },
      };
      await store.createJourney(ws, { id: 'jr_w', name: 'Weekly', draft: weekly }, T0);
      await store.publishJourney(ws, 'jr_w', { definition: weekly, migrate: false, nextRunAt: T0 + DAY }, T0);
      expect(await store.claimDueSchedules('w1', T0, LEASE)).toEqual([]);
      const other = await open();
      const [a, b] = await Promise.all([
        store.claimDueSchedules('w1', T0 + DAY, LEASE),
        other.claimDueSchedules('w2', T0 + DAY, LEASE),
      ]);
      const runs = [...a, ...b];
      expect(runs).toMatchObject([{ workspaceId: ws, journeyId: 'jr_w', version: 1, runAt: T0 + DAY }]);
      await store.ingest(ws, [track('u1', 'Seen', 's1'), track('u2', 'Seen', 's2')]);
      const ids = await Promise.all(
        ['u1', 'u2'].map(async (u) => (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id),
      );
      const entry = { version: 1, step: 'done', trigger: 'scheduled run', limit: { kind: 'once' as const } };
      const customers = ids.map((profileId, i) => ({
        id: `je_run1_${profileId}`,
        profileId,
        dueAt: T0 + DAY + i * 1000,
      }));
      expect(await store.enterJourney(ws, 'jr_w', entry, customers, T0 + DAY)).toBe(2);
      // The same run enumerated again (its worker died): nobody enters twice.
      expect(await store.enterJourney(ws, 'jr_w', entry, customers, T0 + DAY)).toBe(0);
      const [e1] = await store.listProfileEntries(ws, ids[1]!);
      expect(e1).toMatchObject({
        id: `je_run1_${ids[1]}`,
        dueAt: T0 + DAY + 1000,
        phase: 'enter',
        trigger: 'scheduled run',
      });
      // A lost claim cannot finish the run; the holder can.
      expect(await store.finishScheduledRun(ws, 'jr_w', 'someone else', null)).toBe(false);
      expect(await store.finishScheduledRun(ws, 'jr_w', runs[0]!.claim, T0 + 8 * DAY)).toBe(true);
      expect(await store.claimDueSchedules('w1', T0 + 2 * DAY, LEASE)).toEqual([]);
      const [next] = await store.claimDueSchedules('w1', T0 + 8 * DAY, LEASE);
      expect(next).toMatchObject({ runAt: T0 + 8 * DAY });
      // `once`: the next run enters nobody who was ever in the journey.
      const again = ids.map((profileId) => ({ id: `je_run2_${profileId}`, profileId, dueAt: T0 + 8 * DAY }));
      expect(await store.enterJourney(ws, 'jr_w', entry, again, T0 + 8 * DAY)).toBe(0);
      const perWeek = { ...entry, limit: { kind: 'once_per_days' as const, days: 7 } };
      expect(await store.enterJourney(ws, 'jr_w', perWeek, again, T0 + 8 * DAY)).toBe(0); // still active
      // Paused since the run was claimed: nobody enters, and the caller is told so (null, not 0).
      await store.setJourneyStatus(ws, 'jr_w', 'paused', T0 + 8 * DAY);
      const later = ids.map((profileId) => ({ id: `je_run3_${profileId}`, profileId, dueAt: T0 + 8 * DAY }));
      expect(
        await store.enterJourney(
          ws,
          'jr_w',
          { ...entry, limit: { kind: 'every_time' } },
          later,
          T0 + 8 * DAY,
        ),
      ).toBeNull();
    });

    it('enters and runs a run page in one write: once per entry id, per the limit, only under the run claim', async () => {
      const weekly = {
        name: 'Weekly',
        trigger: { schedule: { segment: 'seg_all', at: new Date(T0 + DAY).toISOString(), every_days: 7 } },
        entry: { limit: 'once' },
        start: 'send',
        steps: {
          send: { type: 'send', channel: 'email', template: 'thanks', next: 'done' },
          done: { type: 'exit' },
        },
      };
      await store.createJourney(ws, { id: 'jr_w', name: 'Weekly', draft: weekly }, T0);
      await store.publishJourney(ws, 'jr_w', { definition: weekly, migrate: false, nextRunAt: T0 + DAY }, T0);
      await store.ingest(ws, [
        track('u1', 'Seen', 's1'),
        track('u2', 'Seen', 's2'),
        track('u3', 'Seen', 's3'),
      ]);
      const ids = await Promise.all(
        ['u1', 'u2', 'u3'].map(
          async (u) => (await store.lookupProfile(ws, { kind: 'user_id', value: u }))!.id,
        ),
      );
      const at = T0 + DAY;
      const [run] = await store.claimDueSchedules('w1', at, LEASE);
      const spec = { version: 1, step: 'send', trigger: 'scheduled run', limit: { kind: 'once' as const } };
      const customers = ids.map((profileId) => ({ id: `je_r1_${profileId}`, profileId, dueAt: at }));
      expect(await store.enterableCustomers(ws, 'jr_w', spec.limit, customers, at)).toEqual(customers);
      // What the runner stores for a send-and-exit customer: completed, its message, its history.
      const done = (c: (typeof customers)[number]): EntryResult => ({
        workspaceId: ws,
        entryId: c.id,
        claim: run!.claim,
        profileId: c.profileId,
        journeyId: 'jr_w',
        state: 'completed',
        position: { step: 'done', phase: 'enter', stepsTaken: 2, signal: null },
        dueAt: null,
        waitingFor: null,
        exitReason: null,
        log: [
          { step: 'send', type: 'send', at, outcome: 'email thanks queued' },
          { step: 'done', type: 'exit', at, outcome: 'completed' },
        ],
        actions: [],
        messages: [
          {
            key: `${c.id}:send:0`,
            step: 'send',
            channel: 'email',
            template: 'thanks',
            payload: { subject: 'Hi' },
            topic: 'marketing',
            status: 'queued',
            nextAttemptAt: at,
            reason: null,
          },
        ],
      });
      // Another worker's claim, or none, stores nothing.
      const stolen = { ...run!, claim: 'someone else' };
      expect(await store.enterAndRun(stolen, spec, [done(customers[0]!)], at, LEASE)).toBeNull();
      expect(await store.listProfileEntries(ws, ids[0]!)).toEqual([]);
      expect(await store.enterAndRun(run!, spec, customers.slice(0, 2).map(done), at, LEASE)).toBe(2);
      const [e] = await store.listProfileEntries(ws, ids[1]!);
      expect(e).toMatchObject({ state: 'completed', step: 'done', enteredAt: at, endedAt: at, dueAt: null });
      expect(e!.history).toEqual([
        { at, step: 'send', type: 'entry', outcome: 'entered: scheduled run' },
        { at, step: 'send', type: 'send', outcome: 'email thanks queued' },
        { at, step: 'done', type: 'exit', outcome: 'completed' },
      ]);
      // The same page stored again (a re-run after a crash): nobody enters or is sent to twice.
      expect(await store.enterAndRun(run!, spec, customers.map(done), at, LEASE)).toBe(1);
      const sent = await store.listJourneyMessages(ws, { journeyId: 'jr_w', limit: 10 });
      expect(sent.map((m) => m.entryId).sort()).toEqual(customers.map((c) => c.id).sort());
      expect(await store.enterableCustomers(ws, 'jr_w', spec.limit, customers, at)).toEqual([]);
      // `once`: the next run's ids are new, but the customers were in the journey.
      const next = ids.map((profileId) => ({ id: `je_r2_${profileId}`, profileId, dueAt: at }));
      expect(await store.enterableCustomers(ws, 'jr_w', spec.limit, next, at)).toEqual([]);
      expect(await store.enterableCustomers(ws, 'jr_w', { kind: 'every_time' }, next, at)).toEqual(next);
      expect(await store.enterAndRun(run!, spec, next.map(done), at + LEASE - 1, LEASE)).toBe(0);
      // Each page renews the run's claim: it does not come due for another worker while pages come.
      expect(await store.claimDueSchedules('w2', at + LEASE + 1, LEASE)).toEqual([]);
      await store.setJourneyStatus(ws, 'jr_w', 'paused', at);
      expect(await store.enterAndRun(run!, spec, [], at, LEASE)).toBeNull();
    });

    it('stores a batch and claims the next in one call, including entries the batch made due', async () => {
      await publish(REVIEW);
      await store.ingest(ws, [
        track('u1', 'Order Completed', 'o1'),
        track('u2', 'Order Completed', 'o2'),
        track('u3', 'Order Completed', 'o3'),
      ]);
      const first = await store.claimDueEntries('w1', 2, clock.now(), LEASE);
      expect(first).toHaveLength(2);
      // The first result moves on at once (due now), the second waits two days; a stale one is dropped.
      const [a, b] = first;
      const now = { ...result(a!, {}), dueAt: clock.now(), waitingFor: null };
      const stale = { ...result(b!, {}), claim: 'someone else' };
      const r = await store.completeAndClaim([now, stale], clock.now(), {
        worker: 'w1',
        limit: 10,
        now: clock.now(),
        leaseMs: LEASE,
      });
      expect(r.applied).toBe(1);
      // Claimed: the entry that was never claimed, and the one the completion made due; not the one
      // whose stale result was dropped (its first claim still holds it).
      const ids = r.claimed.map((e) => e.id);
      expect(ids).toHaveLength(2);
      expect(ids).toContain(a!.id);
      expect(ids).not.toContain(b!.id);
      expect(r.claimed.find((e) => e.id === a!.id)?.position).toMatchObject({ step: 'wait', stepsTaken: 1 });
      expect(await store.listJourneyMessages(ws, { journeyId: 'jr_review', limit: 10 })).toHaveLength(1);
      // Nothing is left to claim: all three are held.
      expect(await store.claimDueEntries('w2', 10, clock.now(), LEASE)).toEqual([]);
      // An empty batch still claims.
      clock.advance(LEASE);
      const again = await store.completeAndClaim([], clock.now(), {
        worker: 'w2',
        limit: 10,
        now: clock.now(),
        leaseMs: LEASE,
      });
      expect(again).toMatchObject({ applied: 0 });
      expect(again.claimed).toHaveLength(3);
    });

    it('shares many due entries between concurrent workers without overlap', async () => {
      await publish(REVIEW);
      const events = Array.from({ length: 300 }, (_, i) => track(`u${i}`, 'Order Completed', `o${i}`));
      await store.ingest(ws, events);
      const stores = [store, await open(), await open()];
      const seen = new Map<string, string>();
      let round = 0;
      for (;;) {
        const batches = await Promise.all(
          stores.map((s, i) => s.claimDueEntries(`w${i}`, 40, clock.now(), LEASE)),
        );
        const all = batches.flat();
        if (all.length === 0) break;
        for (const e of all) {
          expect(seen.has(e.id)).toBe(false);
          seen.set(e.id, e.claim);
        }
        await Promise.all(
          stores.map((s, i) =>
            s.completeEntries(
              batches[i]!.map((e) => result(e, {})),
              clock.now(),
            ),
          ),
        );
        round++;
      }
      expect(seen.size).toBe(300);
      expect(round).toBeGreaterThan(1);
      expect(await store.listJourneyMessages(ws, { journeyId: 'jr_review', limit: 1000 })).toHaveLength(300);
    });
  });
}
