import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { InAppCampaigns } from '../../src/engine/inapp/campaigns.js';
import { InAppDelivery } from '../../src/engine/inapp/delivery.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kizuna-inapp-delivery-'));
const clock = new ManualClock(Date.UTC(2026, 11, 1, 3));
const store = SqliteStore.open({ path: join(dir, 'k.db'), clock });
let ws = '';
beforeAll(async () => {
  await store.migrate();
  ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The active campaigns are re-read every few seconds; their compilations must survive the re-read
 * while the text is unchanged, or the per-customer render cache starts over every few seconds and
 * every request renders every personalised message again.
 */
it('keeps rendered fields across re-reads of the active set, and renders an edited message afresh', async () => {
  const delivery = new InAppDelivery(store, clock, 5_000);
  const campaigns = new InAppCampaigns(store, clock, (w) => delivery.invalidate(w));
  const base = {
    name: 'hello',
    type: 'modal',
    status: 'active',
    trigger: { kind: 'delay', seconds: 0 },
  };
  const m = await campaigns.createMessage(ws, {
    ...base,
    content: { title: 'Hi {{ profile.traits.missing | default: "there" }}', body: 'Welcome' },
  });
  const visitor = { profile: null, anonymousId: 'v-1', sessionId: null };
  const ask = async () =>
    (await delivery.forCustomer(ws, visitor, { messages: true, cards: false })).messages;

  expect((await ask())[0]!.content.title).toBe('Hi there');
  expect(delivery.counts).toEqual({ rendered: 1, cached: 0 });
  clock.advance(60_000); // well past the set's cache time: the set is read again
  expect((await ask())[0]!.content.title).toBe('Hi there');
  expect(delivery.counts).toEqual({ rendered: 1, cached: 1 });

  await campaigns.updateMessage(ws, m.id, {
    ...base,
    content: { title: 'Hello {{ profile.traits.missing | default: "friend" }}', body: 'Welcome' },
  });
  expect((await ask())[0]!.content.title).toBe('Hello friend');
  expect(delivery.counts).toEqual({ rendered: 2, cached: 1 });
});
