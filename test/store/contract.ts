import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { NormalizedEvent } from '../../src/domain/event.js';
import { testEvent } from '../../src/domain/testing.js';
import type { Store } from '../../src/store/store.js';

/**
 * The store contract: every adapter runs this suite unchanged. `open` may be called several times per
 * test and must return stores on the same database (as separate processes would share one).
 */
export interface StoreHarness {
  open(clock: ManualClock): Promise<Store>;
  /** Drops everything so the next test starts empty. */
  reset(): Promise<void>;
}

const T0 = Date.UTC(2026, 5, 1, 12);
const at = (min: number) => T0 + min * 60_000;

export function storeContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} store contract`, () => {
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

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await open();
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w-hash', adminKeyHash: 'a-hash' })).id;
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('runs migrations once: a second run applies nothing and loses nothing', async () => {
      await store.ingest(ws, [testEvent({ userId: 'u1', messageId: 'm1' })]);
      expect(await store.migrate()).toEqual({ applied: [] });
      const again = await open();
      expect(await again.migrate()).toEqual({ applied: [] });
      expect((await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))?.eventCount).toBe(1);
    });

    it('creates workspaces with distinct write and admin keys and refuses duplicate names', async () => {
      expect(await store.findKey('w-hash')).toEqual({
        workspaceId: ws,
        kind: 'write',
        id: 'key_w-hash',
        name: 'write key',
        scope: 'ingest',
      });
      expect(await store.findKey('a-hash')).toEqual({
        workspaceId: ws,
        kind: 'admin',
        id: 'key_a-hash',
        name: 'admin key',
        scope: 'admin',
      });
      expect(await store.findKey('nope')).toBeNull();
      // Matched by name and status, not class: the writer-thread suite runs the compiled build,
      // whose ConflictError is a different class object than the one in src/.
      await expect(
        store.createWorkspace({ name: 'shop', writeKeyHash: 'x', adminKeyHash: 'y' }),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        status: 409,
      });
      expect(await store.findKey('x')).toBeNull();
      expect((await store.findWorkspaceByName('shop'))?.id).toBe(ws);
      expect(await store.countWorkspaces()).toBe(1);
    });

    it('stores a batch and de-duplicates retried messageIds, within and across calls', async () => {
      const batch = [
        testEvent({ userId: 'u1', messageId: 'a', name: 'Product Viewed' }),
        testEvent({ userId: 'u1', messageId: 'b', name: 'Product Viewed' }),
        testEvent({ userId: 'u1', messageId: 'a', name: 'Product Viewed' }),
      ];
      expect(await store.ingest(ws, batch)).toMatchObject({ stored: 2, duplicates: 1, profilesCreated: 1 });
      expect(await store.ingest(ws, batch)).toMatchObject({ stored: 0, duplicates: 3 });
      const p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
      expect(p?.eventCount).toBe(2);
      const page = await store.listProfileEvents(ws, p!.id, { limit: 10 });
      expect(page.events.map((e) => e.messageId).sort()).toEqual(['a', 'b']);
      expect(await store.listEventNames(ws)).toEqual([
        { type: 'track', name: 'Product Viewed', count: 2, lastSeenAt: batch[0]!.timestamp },
      ]);
    });

    it('merges an anonymous visitor into the customer on identify; the old id resolves to the survivor', async () => {
      await store.ingest(ws, [
        testEvent({ anonymousId: 'anon-1', messageId: '1', name: 'Page Browsed', timestamp: at(0) }),
        testEvent({ anonymousId: 'anon-1', messageId: '2', name: 'Product Viewed', timestamp: at(1) }),
      ]);
      const anon = await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon-1' });
      await store.ingest(ws, [testEvent({ userId: 'user-1', messageId: '3', timestamp: at(2) })]);
      clock.advance(60_000);
      const r = await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'user-1',
          anonymousId: 'anon-1',
          messageId: '4',
          timestamp: at(3),
          traits: { email: 'Aiko@Example.com', name: 'Aiko', plan: 'pro' },
        }),
      ]);
      expect(r.profilesMerged).toBe(1);
      const p = await store.lookupProfile(ws, { kind: 'email', value: 'aiko@example.com' });
      expect(p).not.toBeNull();
      expect(p!.userId).toBe('user-1');
      expect(p!.identities).toEqual([
        { kind: 'user_id', value: 'user-1' },
        { kind: 'email', value: 'aiko@example.com' },
        { kind: 'anonymous_id', value: 'anon-1' },
      ]);
      expect(p!.traits).toEqual({ email: 'Aiko@Example.com', name: 'Aiko', plan: 'pro' });
      expect(p!.eventCount).toBe(4);
      expect(p!.firstSeenAt).toBe(at(0));
      expect(p!.lastSeenAt).toBe(at(3));
      expect((await store.getProfile(ws, anon!.id))?.id).toBe(p!.id);
      const events = await store.listProfileEvents(ws, anon!.id, { limit: 10 });
      expect(events.events.map((e) => e.messageId)).toEqual(['4', '3', '2', '1']);
    });

    it('follows merge chains A→B→C across batches and stores', async () => {
      const other = await open();
      await store.ingest(ws, [testEvent({ anonymousId: 'A', messageId: '1' })]);
      await other.ingest(ws, [testEvent({ anonymousId: 'B', messageId: '2' })]);
      const a = await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'A' });
      await store.ingest(ws, [
        testEvent({ type: 'alias', previousId: 'A', userId: 'B-user', anonymousId: 'B', messageId: '3' }),
      ]);
      await other.ingest(ws, [
        testEvent({ type: 'alias', previousId: 'B-user', userId: 'C', messageId: '4' }),
      ]);
      const c = await store.lookupProfile(ws, { kind: 'user_id', value: 'C' });
      expect(c?.eventCount).toBe(4);
      expect((await other.getProfile(ws, a!.id))?.id).toBe(c!.id);
      expect((await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'B' }))?.id).toBe(c!.id);
      expect((await store.searchProfiles(ws, { filters: [], limit: 10 })).profiles).toHaveLength(1);
    });

    it('refuses to merge two known users implicitly and reports it', async () => {
      await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'alice', anonymousId: 'shared-ipad', messageId: '1' }),
      ]);
      const r = await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'bob', anonymousId: 'shared-ipad', messageId: '2' }),
      ]);
      expect(r.refusedMerges).toHaveLength(1);
      const alice = await store.lookupProfile(ws, { kind: 'user_id', value: 'alice' });
      const bob = await store.lookupProfile(ws, { kind: 'user_id', value: 'bob' });
      expect(alice!.id).not.toBe(bob!.id);
      expect((await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'shared-ipad' }))?.id).toBe(
        alice!.id,
      );
      expect(bob!.eventCount).toBe(1);
    });

    it('keeps workspaces apart', async () => {
      const ws2 = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' })).id;
      await store.ingest(ws, [
        testEvent({ userId: 'same', messageId: 'same-msg', traits: { shop: 1 }, type: 'identify' }),
      ]);
      expect(
        await store.ingest(ws2, [
          testEvent({ userId: 'same', messageId: 'same-msg', traits: { shop: 2 }, type: 'identify' }),
        ]),
      ).toMatchObject({ stored: 1 });
      const p1 = await store.lookupProfile(ws, { kind: 'user_id', value: 'same' });
      const p2 = await store.lookupProfile(ws2, { kind: 'user_id', value: 'same' });
      expect(p1!.id).not.toBe(p2!.id);
      expect(p1!.traits).toEqual({ shop: 1 });
      expect(p2!.traits).toEqual({ shop: 2 });
      expect(await store.getProfile(ws2, p1!.id)).toBeNull();
      expect((await store.listProfileEvents(ws2, p1!.id, { limit: 10 })).events).toEqual([]);
      expect(await store.listEventNames(ws2)).toHaveLength(1);
    });

    it('pages a timeline newest first with a stable cursor, ties broken by storage order', async () => {
      const events: NormalizedEvent[] = [];
      for (let i = 0; i < 25; i++) {
        events.push(
          testEvent({
            userId: 'u',
            messageId: `m${String(i).padStart(2, '0')}`,
            timestamp: at(Math.floor(i / 3)),
          }),
        );
      }
      // Out-of-order arrival: the newest events first.
      await store.ingest(ws, events.slice(12));
      await store.ingest(ws, events.slice(0, 12));
      const p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u' });
      const seen: string[] = [];
      let before;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listProfileEvents(ws, p!.id, { limit: 7, ...(before && { before }) });
        seen.push(...page.events.map((e) => e.messageId));
        if (!page.next) break;
        before = page.next;
      }
      expect(seen).toHaveLength(25);
      expect(new Set(seen).size).toBe(25);
      const times = seen.map((m) => events.find((e) => e.messageId === m)!.timestamp);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it('searches profiles by trait value, typed or as text, with paging', async () => {
      const batch: NormalizedEvent[] = [];
      for (let i = 0; i < 12; i++) {
        batch.push(
          testEvent({
            type: 'identify',
            userId: `u${i}`,
            messageId: `i${i}`,
            traits: { plan: i % 3 === 0 ? 'pro' : 'free', age: 20 + (i % 2), 'nick name': '東京 🍣' },
          }),
        );
      }
      await store.ingest(ws, batch);
      const pro = await store.searchProfiles(ws, { filters: [{ key: 'plan', anyOf: ['pro'] }], limit: 100 });
      expect(pro.profiles.map((p) => p.userId).sort()).toEqual(['u0', 'u3', 'u6', 'u9']);
      const age = await store.searchProfiles(ws, {
        filters: [
          { key: 'age', anyOf: ['21', 21] },
          { key: 'plan', anyOf: ['free'] },
        ],
        limit: 100,
      });
      expect(age.profiles.map((p) => p.userId).sort()).toEqual(['u1', 'u11', 'u5', 'u7']);
      const uni = await store.searchProfiles(ws, {
        filters: [{ key: 'nick name', anyOf: ['東京 🍣'] }],
        limit: 5,
      });
      expect(uni.profiles).toHaveLength(5);
      const rest = await store.searchProfiles(ws, {
        filters: [{ key: 'nick name', anyOf: ['東京 🍣'] }],
        limit: 100,
        after: uni.next!,
      });
      expect(rest.profiles).toHaveLength(7);
      expect(rest.next).toBeNull();
    });

    it('tracks groups (accounts) with latest-wins traits and members', async () => {
      await store.ingest(ws, [
        testEvent({
          type: 'group',
          userId: 'u1',
          groupId: 'acme',
          traits: { name: 'Acme', seats: 5 },
          messageId: '1',
          timestamp: at(5),
        }),
        testEvent({
          type: 'group',
          userId: 'u2',
          groupId: 'acme',
          traits: { seats: 3 },
          messageId: '2',
          timestamp: at(1),
        }),
      ]);
      const g = await store.getGroup(ws, 'acme');
      expect(g).toMatchObject({ id: 'acme', traits: { name: 'Acme', seats: 5 }, memberCount: 2 });
      expect((await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))?.groups).toEqual(['acme']);
      expect(await store.getGroup(ws, 'nope')).toBeNull();
    });

    it('stores nothing of a batch that fails part-way through writing', async () => {
      await store.ingest(ws, [testEvent({ anonymousId: 'a', messageId: 'before' })]);
      const batch = [
        testEvent({ type: 'identify', userId: 'u', anonymousId: 'a', messageId: 'x1' }),
        testEvent({ userId: 'v', messageId: 'x2' }),
      ];
      // The second event explodes when the adapter reads its payload, after profiles were written.
      Object.defineProperty(batch[1], 'payload', {
        get() {
          throw new Error('disk on fire');
        },
      });
      // Calls made at the same moment (which an adapter may commit together) succeed or fail alone.
      const [before, failed, after] = await Promise.allSettled([
        store.ingest(ws, [testEvent({ userId: 'w1', messageId: 'w1' })]),
        store.ingest(ws, batch),
        store.ingest(ws, [testEvent({ userId: 'w2', messageId: 'w2' })]),
      ]);
      expect(failed).toMatchObject({ status: 'rejected', reason: { message: 'disk on fire' } });
      expect([before?.status, after?.status]).toEqual(['fulfilled', 'fulfilled']);
      expect((await store.lookupProfile(ws, { kind: 'user_id', value: 'w1' }))?.eventCount).toBe(1);
      expect((await store.lookupProfile(ws, { kind: 'user_id', value: 'w2' }))?.eventCount).toBe(1);
      expect(await store.lookupProfile(ws, { kind: 'user_id', value: 'u' })).toBeNull();
      expect(await store.lookupProfile(ws, { kind: 'user_id', value: 'v' })).toBeNull();
      expect((await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'a' }))?.eventCount).toBe(1);
      // And the store keeps working.
      expect(await store.ingest(ws, [testEvent({ userId: 'u', messageId: 'x1' })])).toMatchObject({
        stored: 1,
      });
    });

    it('converges racing merges from several writers to one profile holding every event', async () => {
      const stores = [store, await open(), await open()];
      const calls: Promise<unknown>[] = [];
      // 30 visitors; each writer sees a different slice of each visitor's identity chain at once.
      for (let v = 0; v < 30; v++) {
        const ids = { a: `anon-${v}`, b: `app-${v}`, u: `user-${v}`, e: `v${v}@example.com` };
        const parts: NormalizedEvent[][] = [
          [
            testEvent({ anonymousId: ids.a, messageId: `${v}-1` }),
            testEvent({
              type: 'identify',
              anonymousId: ids.a,
              traits: { email: ids.e },
              messageId: `${v}-2`,
            }),
          ],
          [
            testEvent({ anonymousId: ids.b, messageId: `${v}-3` }),
            testEvent({ type: 'identify', userId: ids.u, anonymousId: ids.b, messageId: `${v}-4` }),
          ],
          [
            testEvent({ type: 'identify', userId: ids.u, traits: { email: ids.e }, messageId: `${v}-5` }),
            testEvent({ type: 'identify', userId: ids.u, anonymousId: ids.a, messageId: `${v}-6` }),
          ],
        ];
        parts.forEach((events, i) => calls.push(stores[(v + i) % stores.length]!.ingest(ws, events)));
      }
      await Promise.all(calls);
      for (let v = 0; v < 30; v++) {
        const p = await store.lookupProfile(ws, { kind: 'user_id', value: `user-${v}` });
        expect(p?.eventCount, `visitor ${v}`).toBe(6);
        for (const [kind, value] of [
          ['anonymous_id', `anon-${v}`],
          ['anonymous_id', `app-${v}`],
          ['email', `v${v}@example.com`],
        ] as const) {
          expect((await store.lookupProfile(ws, { kind, value }))?.id, `${kind} ${value}`).toBe(p!.id);
        }
        const evs = await store.listProfileEvents(ws, p!.id, { limit: 100 });
        expect(evs.events).toHaveLength(6);
      }
      const all = await store.searchProfiles(ws, { filters: [], limit: 1000 });
      expect(all.profiles).toHaveLength(30);
      // Racing merges from several stores leave the kept stage counts exact.
      const counts = Object.values(await store.stageCounts(ws));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    });

    describe('engagement', () => {
      const DAY = 86_400_000;
      const order = (userId: string, messageId: string, properties: Record<string, unknown> = {}) =>
        testEvent({ userId, messageId, name: 'Order Completed', timestamp: clock.now(), properties });
      const segment = (id: string, name: string, rule: unknown) =>
        store.changeDefinitions(
          ws,
          { kind: 'put_segment', segment: { id, name, description: '', rule, status: 'ready' } },
          clock.now(),
        );

      it('keeps facts, stage and segment membership current on ingest, with an event stream', async () => {
        await segment('seg_buyers', 'Buyers', { event: 'Order Completed', within: { days: 30 } });
        await store.ingest(ws, [
          testEvent({ userId: 'u1', messageId: 'v1', name: 'Product Viewed', timestamp: clock.now() }),
        ]);
        let p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
        expect(p).toMatchObject({ stage: 'new', segments: [] });
        await store.ingest(ws, [order('u1', 'o1', { revenue: 20 })]);
        p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
        expect(p?.segments).toEqual(['seg_buyers']);
        expect((await store.listSegmentMembers(ws, 'seg_buyers', { limit: 10 })).profileIds).toEqual([p!.id]);
        expect((await store.getSegment(ws, 'seg_buyers'))?.size).toBe(1);
        const state = await store.getProfileState(ws, p!.id);
        expect(state?.facts.e['track:Order Completed']?.n).toBe(1);
        expect(await store.stageHistory(ws, p!.id)).toEqual([
          {
            at: T0,
            from: null,
            to: 'new',
            reason: expect.stringContaining('days_since_first_seen') as string,
          },
        ]);
        expect(await store.stageCounts(ws)).toEqual({ new: 1 });
        const stream = await store.listEngagementEvents(ws, { after: 0, limit: 10 });
        expect(stream.map((e) => [e.type, e.subject, e.profileId])).toEqual([
          ['Stage Entered', 'new', p!.id],
          ['Segment Entered', 'seg_buyers', p!.id],
        ]);
        expect(stream[1]!.properties).toEqual({ segment_id: 'seg_buyers', segment_name: 'Buyers' });
        expect(
          await store.listEngagementEvents(ws, { after: stream[0]!.id, limit: 10, profileId: p!.id }),
        ).toHaveLength(1);
        // A duplicate delivery changes nothing.
        await store.ingest(ws, [order('u1', 'o1', { revenue: 20 })]);
        expect((await store.getProfileState(ws, p!.id))?.facts.e['track:Order Completed']?.n).toBe(1);
      });

      it('moves stages and segments with time alone when profiles are re-evaluated', async () => {
        await segment('seg_recent', 'Recent buyers', { event: 'Order Completed', within: { days: 7 } });
        await store.ingest(ws, [order('u1', 'o1'), order('u2', 'o2')]);
        clock.advance(10 * DAY);
        await store.ingest(ws, [order('u2', 'o3')]);
        clock.advance(25 * DAY);
        const r = await store.reevaluateProfiles(ws, {
          after: null,
          limit: 100,
          now: clock.now(),
          rebuildFacts: false,
        });
        expect(r).toMatchObject({ processed: 2, next: null });
        const u1 = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
        const u2 = await store.lookupProfile(ws, { kind: 'user_id', value: 'u2' });
        expect(u1).toMatchObject({ stage: 'at_risk', segments: [] });
        expect(u2).toMatchObject({ stage: 'active', segments: [] });
        expect((await store.stageHistory(ws, u1!.id)).map((t) => t.to)).toEqual(['new', 'at_risk']);
        expect(await store.listSegmentMembers(ws, 'seg_recent', { limit: 10 })).toEqual({
          profileIds: [],
          next: null,
        });
        // A second pass at the same moment finds nothing to change.
        const again = await store.reevaluateProfiles(ws, {
          after: null,
          limit: 100,
          now: clock.now(),
          rebuildFacts: false,
        });
        expect(again.changed).toBe(0);
      });

      it('pages re-evaluation by profile id', async () => {
        await store.ingest(
          ws,
          ['a', 'b', 'c', 'd', 'e'].map((u) => order(u, `o-${u}`)),
        );
        const first = await store.reevaluateProfiles(ws, {
          after: null,
          limit: 2,
          now: clock.now(),
          rebuildFacts: false,
        });
        expect(first.processed).toBe(2);
        const second = await store.reevaluateProfiles(ws, {
          after: first.next,
          limit: 2,
          now: clock.now(),
          rebuildFacts: false,
        });
        const third = await store.reevaluateProfiles(ws, {
          after: second.next,
          limit: 2,
          now: clock.now(),
          rebuildFacts: false,
        });
        expect([first.processed, second.processed, third.processed]).toEqual([2, 2, 1]);
        expect(third.next).toBeNull();
        expect(await store.countProfiles(ws)).toBe(5);
      });

      it('scans states without writing, and re-evaluates just the profiles it is given', async () => {
        await store.ingest(
          ws,
          ['a', 'b', 'c'].map((u) => order(u, `o-${u}`)),
        );
        const scan = await store.scanProfileStates(ws, { after: null, limit: 2 });
        expect(scan.profiles.map((p) => p.engagement.stage)).toEqual(['new', 'new']);
        const rest = await store.scanProfileStates(ws, { after: scan.next, limit: 2 });
        expect(rest).toMatchObject({ next: null });
        expect(rest.profiles).toHaveLength(1);
        clock.advance(20 * DAY);
        const target = scan.profiles[1]!.id;
        const r = await store.reevaluateProfiles(ws, {
          after: null,
          limit: 10,
          now: clock.now(),
          rebuildFacts: false,
          ids: [target, 'p_gone'],
        });
        expect(r).toEqual({ processed: 1, next: null, changed: 1 });
        expect(await store.stageCounts(ws)).toEqual({ new: 2, active: 1 });
        expect((await store.getProfile(ws, target))?.stage).toBe('active');
      });

      it('scans just the facts a projection names, evaluating as the whole facts do', async () => {
        await store.ingest(ws, [
          order('u1', 'o1', { revenue: 5 }),
          testEvent({ userId: 'u1', messageId: 'v1', name: 'Product Viewed', timestamp: clock.now() }),
          testEvent({ userId: 'u2', messageId: 'v2', name: 'Product Viewed', timestamp: clock.now() }),
          testEvent({ userId: 'u3', messageId: 'i3', type: 'identify', traits: { plan: 'pro' } }),
        ]);
        clock.advance(DAY);
        await store.ingest(ws, [order('u1', 'o2'), order('u2', 'o3')]);
        const want = { events: ['track:Order Completed', 'track:Cart Viewed'], traits: true };
        const whole = await store.scanProfileStates(ws, { after: null, limit: 10 });
        const picked = await store.scanProfileStates(ws, { after: null, limit: 10, facts: want });
        expect(picked.profiles.map((p) => p.id)).toEqual(whole.profiles.map((p) => p.id));
        picked.profiles.forEach((p, i) => {
          const w = whole.profiles[i]!;
          expect(p.userId).toBe(w.userId);
          expect(p.traits).toEqual(w.traits);
          expect(p.engagement).toEqual(w.engagement);
          // What the projection names is there, whole; a store may return more.
          for (const key of want.events) expect(p.facts.e[key]).toEqual(w.facts.e[key]);
        });
        expect(picked.profiles.filter((p) => p.facts.e['track:Order Completed']?.n === 2)).toHaveLength(1);
        // Paging works as without a projection.
        const first = await store.scanProfileStates(ws, { after: null, limit: 2, facts: want });
        const rest = await store.scanProfileStates(ws, { after: first.next, limit: 2, facts: want });
        expect([...first.profiles, ...rest.profiles].map((p) => p.id)).toEqual(
          whole.profiles.map((p) => p.id),
        );
        expect(rest.next).toBeNull();
      });

      /** Profiles per stage counted from the profiles themselves, to check the kept counts against. */
      const scannedStages = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        let after: string | null = null;
        for (;;) {
          const page = await store.scanProfileStates(ws, { after, limit: 100 });
          for (const p of page.profiles) {
            const s = p.engagement.stage;
            if (s !== null) out[s] = (out[s] ?? 0) + 1;
          }
          if (page.next === null) return out;
          after = page.next;
        }
      };

      it('scans a uniform random sample of profiles, the same one every time', async () => {
        await store.ingest(
          ws,
          Array.from({ length: 400 }, (_, i) => order(`s-${i}`, `s-${i}`)),
        );
        const ids = async (sample?: number) => {
          const out: string[] = [];
          let after: string | null = null;
          for (;;) {
            const page = await store.scanProfileStates(ws, {
              after,
              limit: 50,
              ...(sample !== undefined && { sample }),
            });
            out.push(...page.profiles.map((p) => p.id));
            if (page.next === null) return out;
            after = page.next;
          }
        };
        const all = await ids();
        expect(all).toHaveLength(400);
        expect(await ids(1)).toEqual(all);
        const quarter = await ids(0.25);
        expect(quarter.length).toBeGreaterThan(50);
        expect(quarter.length).toBeLessThan(150);
        expect(quarter.every((id) => all.includes(id))).toBe(true);
        expect(await ids(0.25)).toEqual(quarter);
      });

      it('keeps stage counts exact through transitions, merges, erasure and a recount', async () => {
        await store.ingest(ws, [order('u1', 'o1'), order('u2', 'o2'), order('u3', 'o3')]);
        await store.ingest(ws, [
          testEvent({ anonymousId: 'anon-1', messageId: 'v1', timestamp: clock.now() }),
        ]);
        expect(await store.stageCounts(ws)).toEqual({ new: 4 });
        // The visitor turns out to be u1: merged away, one profile fewer.
        await store.ingest(ws, [
          testEvent({
            type: 'identify',
            userId: 'u1',
            anonymousId: 'anon-1',
            messageId: 'i1',
            timestamp: clock.now(),
          }),
        ]);
        expect(await store.stageCounts(ws)).toEqual({ new: 3 });
        clock.advance(10 * DAY);
        await store.ingest(ws, [order('u2', 'o4')]);
        clock.advance(25 * DAY);
        await store.reevaluateProfiles(ws, {
          after: null,
          limit: 100,
          now: clock.now(),
          rebuildFacts: false,
        });
        const moved = await store.stageCounts(ws);
        expect(moved).toEqual({ at_risk: 2, active: 1 });
        expect(moved).toEqual(await scannedStages());
        const u3 = await store.lookupProfile(ws, { kind: 'user_id', value: 'u3' });
        await store.eraseProfile(ws, u3!.id, { id: 'er1', requestedBy: 'api', now: clock.now() });
        expect(await store.stageCounts(ws)).toEqual({ at_risk: 1, active: 1 });
        // Many transitions at once (more delta rows than a read leaves unfolded on PostgreSQL).
        await store.ingest(
          ws,
          Array.from({ length: 300 }, (_, i) => order(`bulk-${i}`, `b-${i}`)),
        );
        expect(await store.stageCounts(ws)).toEqual({ at_risk: 1, active: 1, new: 300 });
        expect(await store.stageCounts(ws)).toEqual(await scannedStages());
        expect(await store.recountStages(ws)).toEqual({ at_risk: 1, active: 1, new: 300 });
        expect(await store.stageCounts(ws)).toEqual({ at_risk: 1, active: 1, new: 300 });
      });

      it('rebuilds facts from history when a definition needs a filtered event', async () => {
        await store.ingest(ws, [
          order('u1', 'o1', { category: 'shoes', revenue: 10 }),
          order('u1', 'o2', { category: 'hats', revenue: 5 }),
        ]);
        await segment('seg_shoes', 'Shoe buyers', {
          event: 'Order Completed',
          where: [{ property: 'category', op: 'eq', value: 'shoes' }],
        });
        const p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
        await store.reevaluateProfiles(ws, { after: null, limit: 100, now: clock.now(), rebuildFacts: true });
        expect((await store.getProfile(ws, p!.id))?.segments).toEqual(['seg_shoes']);
        const facts = (await store.getProfileState(ws, p!.id))!.facts;
        expect(facts.e['track:Order Completed']?.n).toBe(2);
        expect(Object.values(facts.s).map((s) => s.n)).toEqual([1]);
      });

      it('merges facts and re-evaluates when identities merge', async () => {
        await segment('seg_two', 'Two orders', { event: 'Order Completed', count: { op: 'gte', value: 2 } });
        await store.ingest(ws, [
          testEvent({
            anonymousId: 'anon',
            messageId: 'a1',
            name: 'Order Completed',
            timestamp: clock.now(),
          }),
        ]);
        await store.ingest(ws, [order('u1', 'o1')]);
        expect((await store.listSegmentMembers(ws, 'seg_two', { limit: 10 })).profileIds).toEqual([]);
        await store.ingest(ws, [
          testEvent({
            type: 'identify',
            userId: 'u1',
            anonymousId: 'anon',
            messageId: 'i1',
            timestamp: clock.now(),
          }),
        ]);
        const p = await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' });
        expect(p?.userId).toBe('u1');
        expect(p?.segments).toEqual(['seg_two']);
        expect((await store.listSegmentMembers(ws, 'seg_two', { limit: 10 })).profileIds).toEqual([p!.id]);
        expect((await store.getProfileState(ws, p!.id))?.facts.e['track:Order Completed']?.n).toBe(2);
      });

      it('records the top-level trait keys profiles are given', async () => {
        expect(await store.listTraitKeys(ws)).toEqual([]);
        await store.ingest(ws, [
          testEvent({
            type: 'identify',
            userId: 'u1',
            messageId: 'i1',
            traits: { plan: 'pro', address: { city: 'Kyoto' } },
          }),
          testEvent({
            type: 'identify',
            userId: 'u2',
            messageId: 'i2',
            traits: { plan: 'free', 名前: '花子' },
          }),
          order('u1', 'o1', { coupon: 'x' }),
        ]);
        await store.ingest(ws, [
          testEvent({ type: 'identify', userId: 'u1', messageId: 'i3', traits: { plan: 'max' } }),
        ]);
        expect(await store.listTraitKeys(ws)).toEqual(['address', 'plan', '名前']);
      });

      it('stores definitions with a version, refuses duplicate segment names, deletes memberships with the segment', async () => {
        const v0 = (await store.getDefinitions(ws)).version;
        await segment('seg_a', 'A', { event: 'Order Completed' });
        await expect(segment('seg_b', 'A', { event: 'Order Completed' })).rejects.toMatchObject({
          status: 409,
        });
        await store.changeDefinitions(
          ws,
          {
            kind: 'put_computed_trait',
            name: 'n',
            spec: { name: 'n', event: 'Order Completed', fn: 'count' },
          },
          clock.now(),
        );
        const defs = await store.getDefinitions(ws);
        expect(defs.version).toBeGreaterThan(v0);
        expect(defs.segments.map((s) => s.id)).toEqual(['seg_a']);
        expect(defs.computed.map((c) => c.name)).toEqual(['n']);
        expect(defs.stageModel.stages.at(-1)?.name).toBe('churned');
        const rfm = {
          recencyDays: [7, 14, 30, 60],
          frequency: [2, 4, 6, 8],
          monetary: [1, 2, 3, 4],
        } as const;
        await store.changeDefinitions(ws, { kind: 'set_rfm', rfm }, clock.now());
        expect((await store.getDefinitions(ws)).rfm).toEqual(rfm);
        await store.changeDefinitions(ws, { kind: 'set_rfm', rfm: null }, clock.now());
        expect((await store.getDefinitions(ws)).rfm.monetary).toEqual([50, 150, 400, 1000]);
        expect((await store.getDefinitions(ws)).ltv).toBeNull();
        const ltv = {
          bgnbd: { r: 0.25, alpha: 4.5, a: 0.8, b: 2.4 },
          spend: { p: 6.25, q: 3.74, gamma: 15.44 },
          fittedAt: clock.now(),
          customers: 2357,
          holdout: null,
        };
        await store.changeDefinitions(ws, { kind: 'set_ltv_model', model: ltv }, clock.now());
        expect((await store.getDefinitions(ws)).ltv).toEqual(ltv);
        await store.changeDefinitions(ws, { kind: 'set_ltv_model', model: null }, clock.now());
        expect((await store.getDefinitions(ws)).ltv).toBeNull();
        await store.ingest(ws, [order('u1', 'o1')]);
        expect((await store.getSegment(ws, 'seg_a'))?.size).toBe(1);
        await store.changeDefinitions(ws, { kind: 'delete_segment', id: 'seg_a' }, clock.now());
        expect(await store.getSegment(ws, 'seg_a')).toBeNull();
        expect(await store.listSegmentMembers(ws, 'seg_a', { limit: 10 })).toEqual({
          profileIds: [],
          next: null,
        });
        // The profile's segments are its membership rows: the deleted segment is gone from it at once.
        expect((await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))?.segments).toEqual([]);
        const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!;
        expect((await store.getProfileState(ws, u1.id))?.engagement.segments).toEqual([]);
        // An evaluation finds nothing to change and emits no exit for it.
        const before = await store.listEngagementEvents(ws, { after: 0, limit: 100 });
        const r = await store.reevaluateProfiles(ws, {
          after: null,
          limit: 10,
          now: clock.now(),
          rebuildFacts: false,
        });
        expect(r.changed).toBe(0);
        expect(await store.listEngagementEvents(ws, { after: 0, limit: 100 })).toEqual(before);
      });

      it('keeps serving the last ready membership while a changed segment is rebuilt', async () => {
        await segment('seg_c', 'C', { event: 'Order Completed' });
        await store.ingest(ws, [
          order('u1', 'o1'),
          testEvent({ userId: 'u2', messageId: 'v2', name: 'Product Viewed', timestamp: clock.now() }),
        ]);
        const u1 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
        const u2 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u2' }))!.id;
        expect((await store.listSegmentMembers(ws, 'seg_c', { limit: 10 })).profileIds).toEqual([u1]);
        // The rule changes: who viewed a product. Until the rebuild is done, readers see the old members.
        await store.changeDefinitions(
          ws,
          {
            kind: 'put_segment',
            segment: {
              id: 'seg_c',
              name: 'C',
              description: '',
              rule: { event: 'Product Viewed' },
              status: 'building',
            },
          },
          clock.now(),
        );
        await store.reevaluateProfiles(ws, { after: null, limit: 1, now: clock.now(), rebuildFacts: false });
        await store.ingest(ws, [
          testEvent({ userId: 'u3', messageId: 'v3', name: 'Product Viewed', timestamp: clock.now() }),
        ]);
        expect((await store.listSegmentMembers(ws, 'seg_c', { limit: 10 })).profileIds).toEqual([u1]);
        expect(await store.getSegment(ws, 'seg_c')).toMatchObject({
          status: 'building',
          size: 1,
          version: 2,
        });
        expect((await store.getProfile(ws, u1))?.segments).toEqual(['seg_c']);
        expect((await store.getProfile(ws, u2))?.segments).toEqual([]);
        await store.reevaluateProfiles(ws, {
          after: null,
          limit: 100,
          now: clock.now(),
          rebuildFacts: false,
        });
        await store.setSegmentBuild(ws, 'seg_c', { status: 'ready', done: 3, total: 3 }, clock.now());
        const u3 = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u3' }))!.id;
        expect((await store.listSegmentMembers(ws, 'seg_c', { limit: 10 })).profileIds).toEqual(
          [u2, u3].sort(),
        );
        expect(await store.getSegment(ws, 'seg_c')).toMatchObject({ status: 'ready', size: 2 });
        expect((await store.getProfile(ws, u1))?.segments).toEqual([]);
        expect((await store.getProfile(ws, u2))?.segments).toEqual(['seg_c']);
      });

      it('tracks a segment build and its size history', async () => {
        await store.changeDefinitions(
          ws,
          {
            kind: 'put_segment',
            segment: {
              id: 'seg_b',
              name: 'B',
              description: 'd',
              rule: { event: 'Order Completed' },
              status: 'building',
            },
          },
          clock.now(),
        );
        await store.ingest(ws, [order('u1', 'o1')]);
        await store.setSegmentBuild(ws, 'seg_b', { status: 'building', done: 1, total: 2 }, clock.now());
        expect(await store.getSegment(ws, 'seg_b')).toMatchObject({
          status: 'building',
          build: { done: 1, total: 2 },
          size: 1,
        });
        clock.advance(1000);
        await store.setSegmentBuild(ws, 'seg_b', { status: 'ready', done: 2, total: 2 }, clock.now());
        expect(await store.getSegment(ws, 'seg_b')).toMatchObject({ status: 'ready', builtAt: clock.now() });
        clock.advance(DAY);
        await store.recordSegmentSizes(ws, clock.now());
        expect(await store.segmentSizeHistory(ws, 'seg_b', 0)).toEqual([
          { at: clock.now() - DAY, size: 1 },
          { at: clock.now(), size: 1 },
        ]);
        expect((await store.listSegments(ws)).map((s) => s.id)).toEqual(['seg_b']);
        expect((await store.listWorkspaces()).map((w) => w.id)).toContain(ws);
      });

      it('keeps one customer consistent when events for it arrive in parallel', async () => {
        await segment('seg_five', 'Five orders', {
          event: 'Order Completed',
          count: { op: 'gte', value: 5 },
        });
        const other = await open();
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).ingest(ws, [order('u1', `p${i}`)])),
        );
        const p = await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' });
        expect((await store.getProfileState(ws, p!.id))?.facts.e['track:Order Completed']?.n).toBe(10);
        expect(p?.segments).toEqual(['seg_five']);
        expect((await store.listSegmentMembers(ws, 'seg_five', { limit: 10 })).profileIds).toEqual([p!.id]);
      });
    });
  });
}
