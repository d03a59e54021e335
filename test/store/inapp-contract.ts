import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { CardDefinition, MessageDefinition } from '../../src/domain/inapp/definition.js';
import { testEvent } from '../../src/domain/testing.js';
import type { CardRecord, MessageRecord } from '../../src/store/inapp-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 10, 1, 12);
const EVERYONE = { segments: [], stages: [], journeySteps: [] };

function message(
  id: string,
  over: Partial<MessageRecord> = {},
  def: Partial<MessageDefinition> = {},
): MessageRecord {
  return {
    id,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    definition: {
      name: `m ${id}`,
      type: 'modal',
      trigger: { kind: 'delay', seconds: 3 },
      position: null,
      priority: 1,
      targeting: EVERYONE,
      frequency: { kind: 'once' },
      variants: [
        {
          key: 'a',
          weight: 1,
          content: { title: 'こんにちは', body: 'b', imageUrl: null, buttons: [], html: null },
        },
      ],
      controlPercent: 0,
      startAt: null,
      endAt: T0 + 1000,
      ...def,
    },
    ...over,
  };
}

function card(id: string, over: Partial<CardRecord> = {}, def: Partial<CardDefinition> = {}): CardRecord {
  return {
    id,
    profileId: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    definition: {
      name: `c ${id}`,
      title: 't',
      body: '',
      imageUrl: null,
      url: null,
      pinned: false,
      targeting: EVERYONE,
      startAt: null,
      expiresAt: null,
      ...def,
    },
    ...over,
  };
}

/** In-app messages, cards, per-customer state and SDK settings (src/store/inapp-store.ts), on every adapter. */
export function inAppContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} in-app store contract`, () => {
    let h: StoreHarness;
    let store: Store;
    let ws: string;
    let other: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
      other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' })).id;
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores, replaces and lists messages and cards per workspace', async () => {
      await store.putInAppMessage(ws, message('m1'));
      await store.putInAppMessage(ws, message('m2', { status: 'draft', createdAt: T0 + 1 }));
      await store.putInAppMessage(
        ws,
        message('m1', { status: 'paused', updatedAt: T0 + 5 }, { priority: 9 }),
      );
      await store.putInAppMessage(other, message('m9'));
      expect(await store.getInAppMessage(ws, 'm1')).toEqual(
        message('m1', { status: 'paused', updatedAt: T0 + 5 }, { priority: 9 }),
      );
      expect(await store.getInAppMessage(ws, 'm9')).toBeNull();
      expect((await store.listInAppMessages(ws, {})).map((m) => m.id)).toEqual(['m2', 'm1']);
      expect((await store.listInAppMessages(ws, { status: 'draft' })).map((m) => m.id)).toEqual(['m2']);

      await store.putContentCard(ws, card('c1'));
      await store.putContentCard(ws, card('c2', { profileId: 'p1', createdAt: T0 + 1 }));
      expect(await store.getContentCard(ws, 'c2')).toEqual(
        card('c2', { profileId: 'p1', createdAt: T0 + 1 }),
      );
      expect((await store.listContentCards(ws, {})).map((c) => c.id)).toEqual(['c2', 'c1']);
      expect((await store.listContentCards(ws, { profileId: null })).map((c) => c.id)).toEqual(['c1']);
      expect((await store.listContentCards(ws, { profileId: 'p1' })).map((c) => c.id)).toEqual(['c2']);

      await store.putInAppMessage(ws, message('m3'));
      const active = await store.listActiveInApp(ws);
      expect(active.messages.map((m) => m.id)).toEqual(['m3']);
      // Cards posted to one customer are read with that customer's state, not with the campaigns.
      expect(active.cards.map((c) => c.id)).toEqual(['c1']);
    });

    it('counts interactions, keeps the last impression session and reads state across merged profiles', async () => {
      await store.ingest(ws, [
        testEvent({ anonymousId: 'anon', name: 'Seen', messageId: 'e1', timestamp: T0 }),
        testEvent({ userId: 'u1', name: 'Seen', messageId: 'e2', timestamp: T0 }),
      ]);
      const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
      const user = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      const i = (
        profileId: string,
        kind: 'impression' | 'click' | 'dismiss',
        sessionId: string | null,
        at: number,
      ) => store.recordMessageInteraction(ws, { profileId, messageId: 'm1', kind, arm: 'a', sessionId, at });
      await i(anon, 'impression', 's1', T0 + 1);
      await i(anon, 'click', 'ignored', T0 + 2);
      await store.setCardState(ws, { profileId: anon, cardId: 'c1', change: 'read', at: T0 + 3 });
      await store.setCardState(ws, { profileId: anon, cardId: 'c1', change: 'read', at: T0 + 9 });
      await store.putContentCard(ws, card('own', { profileId: anon }));
      await store.putContentCard(ws, card('paused-own', { profileId: anon, status: 'paused' }));
      let state = await store.inAppStateOf(ws, anon, { journeys: true });
      expect(state.counts.get('m1')).toEqual({ impressions: 1, lastSession: 's1' });
      expect(state.cardStates.get('c1')).toEqual({ readAt: T0 + 3, dismissedAt: null });
      expect(state.cards.map((c) => c.id)).toEqual(['own']);
      expect(state.journeySteps).toEqual([]);

      await i(user, 'impression', 's2', T0 + 4);
      await store.setCardState(ws, { profileId: user, cardId: 'c1', change: 'dismiss', at: T0 + 5 });
      // The visitor logs in: the two profiles merge, and what either saw counts for the survivor.
      await store.ingest(ws, [
        testEvent({ userId: 'u1', anonymousId: 'anon', name: 'Login', messageId: 'e3', timestamp: T0 }),
      ]);
      const survivor = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      state = await store.inAppStateOf(ws, survivor, { journeys: false });
      expect(state.counts.get('m1')).toEqual({ impressions: 2, lastSession: 's2' });
      expect(state.cardStates.get('c1')).toEqual({ readAt: T0 + 3, dismissedAt: T0 + 5 });
      expect(state.cards.map((c) => c.id)).toEqual(['own']);
      expect((await store.inAppStateOf(other, survivor, { journeys: true })).counts.size).toBe(0);
    });

    it('reads each exposed customer once with their first arm, clicks and first goal event in the window', async () => {
      const H = 3_600_000;
      await store.ingest(ws, [
        testEvent({ anonymousId: 'v1', name: 'Seen', messageId: 'o1', timestamp: T0 }),
        testEvent({ userId: 'u1', name: 'Seen', messageId: 'o2', timestamp: T0 }),
        testEvent({ userId: 'u2', name: 'Seen', messageId: 'o3', timestamp: T0 }),
        testEvent({ userId: 'u3', name: 'Seen', messageId: 'o4', timestamp: T0 }),
      ]);
      const id = async (kind: 'user_id' | 'anonymous_id', value: string) =>
        (await store.lookupProfile(ws, { kind, value }))!.id;
      const [v1, u1, u2, u3] = [
        await id('anonymous_id', 'v1'),
        await id('user_id', 'u1'),
        await id('user_id', 'u2'),
        await id('user_id', 'u3'),
      ];
      const i = (profileId: string, kind: 'impression' | 'click' | 'control', arm: string, at: number) =>
        store.recordMessageInteraction(ws, { profileId, messageId: 'm1', kind, arm, sessionId: null, at });
      // v1 saw variant b first (as a visitor), then signed in as u1, who later saw a: one customer, arm b.
      await i(v1, 'impression', 'b', T0 + H);
      await i(u1, 'impression', 'a', T0 + 2 * H);
      await i(u1, 'click', 'a', T0 + 2 * H);
      await i(u2, 'control', 'control', T0 + H);
      await i(u2, 'control', 'control', T0 + 5 * H);
      await i(u3, 'impression', 'a', T0 + H);
      // A click alone (no exposure recorded) is not an exposure.
      await store.recordMessageInteraction(ws, {
        profileId: u3,
        messageId: 'm2',
        kind: 'click',
        arm: 'a',
        sessionId: null,
        at: T0,
      });
      await store.ingest(ws, [
        testEvent({ userId: 'u1', anonymousId: 'v1', name: 'Login', messageId: 'o5', timestamp: T0 + 3 * H }),
        // u1: before the exposure (no), then two in the window: the first counts.
        testEvent({
          userId: 'u1',
          name: 'Order Completed',
          messageId: 'o6',
          timestamp: T0,
          properties: { revenue: 1 },
        }),
        testEvent({
          userId: 'u1',
          name: 'Order Completed',
          messageId: 'o7',
          timestamp: T0 + 4 * H,
          properties: { revenue: 30 },
        }),
        testEvent({
          userId: 'u1',
          name: 'Order Completed',
          messageId: 'o8',
          timestamp: T0 + 3 * H,
          properties: { revenue: 20 },
        }),
        // u2: the window runs from the first control exposure; exactly at its end still counts.
        testEvent({
          userId: 'u2',
          name: 'Order Completed',
          messageId: 'o9',
          timestamp: T0 + 25 * H,
          properties: { total: '7.5' },
        }),
        // u3: after the window.
        testEvent({ userId: 'u3', name: 'Order Completed', messageId: 'o10', timestamp: T0 + 26 * H }),
        testEvent({ userId: 'u3', name: 'Other', messageId: 'o11', timestamp: T0 + 2 * H }),
      ]);
      const out = await store.inAppOutcomes(ws, 'm1', { event: 'Order Completed', withinMs: 24 * H });
      const sorted = [...out].sort((a, b) => (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : 0));
      expect(sorted).toEqual([
        { arm: 'a', clicked: false, goal: null },
        { arm: 'b', clicked: true, goal: { revenue: 20 } },
        { arm: 'control', clicked: false, goal: { total: '7.5' } },
      ]);
      expect(await store.inAppOutcomes(ws, 'm2', { event: 'Order Completed', withinMs: H })).toEqual([]);
      expect(await store.inAppOutcomes(other, 'm1', { event: 'Order Completed', withinMs: H })).toEqual([]);
      // Frequency counts a control exposure like an impression.
      expect((await store.inAppStateOf(ws, u2, { journeys: false })).counts.get('m1')?.impressions).toBe(2);
    });

    it('keeps SDK settings per workspace', async () => {
      expect(await store.getSdkSettings(ws)).toBeNull();
      await store.putSdkSettings(ws, { consentRequired: true, identitySecret: 'v1.sealed' }, T0);
      await store.putSdkSettings(ws, { consentRequired: false, identitySecret: null }, T0 + 1);
      expect(await store.getSdkSettings(ws)).toEqual({ consentRequired: false, identitySecret: null });
      expect(await store.getSdkSettings(other)).toBeNull();
    });
  });
}
