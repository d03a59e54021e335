import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { ConsentEntry } from '../../src/domain/consent.js';
import { testEvent } from '../../src/domain/testing.js';
import type { Store } from '../../src/store/store.js';
import type { ExportPage } from '../../src/store/rights-store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);

/** Raw access to the adapter's database, to check what the port cannot show. */
export interface RawDb {
  /** every table with a column of this name, from the schema */
  tablesWithColumn(column: string): Promise<string[]>;
  /** rows of `table` whose `column` is one of `values` */
  countIn(table: string, column: string, values: readonly string[]): Promise<number>;
  /** rows of any table holding `text` anywhere in them (every column, as text) */
  rowsContaining(text: string): Promise<{ table: string; rows: number }[]>;
  /** which SQL the adapter speaks, for `exec` */
  dialect: 'sqlite' | 'postgres';
  /** runs a statement on a connection of its own (to stage data as an older version left it) */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface RightsHarness extends StoreHarness {
  raw(): RawDb;
}

const entry = (over: Partial<ConsentEntry>): ConsentEntry => ({
  profileId: 'p1',
  purpose: 'profiling',
  status: 'granted',
  source: 'api',
  method: 'checkbox',
  textVersion: 'v1',
  topic: null,
  at: T0,
  ...over,
});

async function collect(pages: AsyncIterable<ExportPage>): Promise<Map<string, Record<string, unknown>[]>> {
  const out = new Map<string, Record<string, unknown>[]>();
  for await (const p of pages) out.set(p.section, [...(out.get(p.section) ?? []), ...p.rows]);
  return out;
}

/** The consent ledger, erasure with tombstones, export and retention deletes, on every adapter. */
export function rightsContract(name: string, harness: () => RightsHarness): void {
  describe(`${name} rights store contract`, () => {
    let store: Store;
    let raw: RawDb;
    let ws: string;
    const clock = new ManualClock(T0);

    beforeEach(async () => {
      const h = harness();
      await h.reset();
      store = await h.open(clock);
      await store.migrate();
      raw = h.raw();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(async () => {
      await raw.close();
      await store.close();
    });

    /** A customer with rows in as many tables as the port can fill, two profiles merged into one. */
    async function customer(prefix: string, phone: string) {
      await store.ingest(ws, [
        testEvent({ anonymousId: `${prefix}-anon`, messageId: `${prefix}-1`, timestamp: T0 }),
        testEvent({
          type: 'identify',
          userId: `${prefix}-user`,
          anonymousId: `${prefix}-anon`,
          traits: { email: `${prefix}@example.com`, phone, name: `${prefix} Name` },
          messageId: `${prefix}-2`,
          timestamp: T0 + 1,
        }),
      ]);
      // A second visitor profile, merged into the first by an identify naming both.
      await store.ingest(ws, [
        testEvent({ anonymousId: `${prefix}-anon2`, messageId: `${prefix}-3`, timestamp: T0 + 2 }),
      ]);
      await store.ingest(ws, [
        testEvent({
          userId: `${prefix}-user`,
          anonymousId: `${prefix}-anon2`,
          messageId: `${prefix}-4`,
          timestamp: T0 + 3,
        }),
        testEvent({
          type: 'group',
          userId: `${prefix}-user`,
          groupId: 'g1',
          messageId: `${prefix}-5`,
          timestamp: T0 + 4,
        }),
      ]);
      const p = (await store.lookupProfile(ws, { kind: 'user_id', value: `${prefix}-user` }))!;
      await store.putDevices(ws, [
        {
          token: `${prefix}-token`,
          profileId: p.id,
          kind: 'android',
          subscription: null,
          createdAt: T0,
          updatedAt: T0,
        },
      ]);
      await store.setSubscription(ws, {
        channel: 'email',
        address: `${prefix}@example.com`,
        topic: 'news',
        status: 'subscribed',
        source: 'api',
        at: T0 + 5,
      });
      await store.putSuppression(ws, {
        channel: 'sms',
        address: phone,
        reason: 'manual',
        detail: null,
        source: 'api',
        at: T0,
      });
      await store.recordConsents(ws, [entry({ profileId: p.id })]);
      await store.recordSurveyResponses(
        ws,
        [
          {
            surveyId: 'sv1',
            questionId: 'nps',
            profileId: p.id,
            value: 9,
            score: 9,
            comment: `${prefix} comment`,
            answeredAt: T0,
            source: 'api',
            journeyId: null,
            messageKey: null,
          },
        ],
        [],
      );
      await store.addFeedback(ws, {
        id: `${prefix}-fb`,
        profileId: p.id,
        source: 'support',
        author: 'kim',
        text: `${prefix} called`,
        sentiment: null,
        topics: [],
        surveyId: null,
        questionId: null,
        journeyId: null,
        messageKey: null,
        createdAt: T0,
        updatedAt: T0,
      });
      await store.recordMessageInteraction(ws, {
        profileId: p.id,
        messageId: 'm1',
        kind: 'impression',
        arm: 'a',
        sessionId: null,
        at: T0,
      });
      await store.setCardState(ws, { profileId: p.id, cardId: 'c1', change: 'read', at: T0 });
      await store.putCouponPool(ws, { name: 'spring', description: null }, T0);
      await store.addCouponCodes(ws, 'spring', [`${prefix}-CODE`], T0);
      await store.assignCoupons(ws, [{ pool: 'spring', messageKey: `${prefix}-msg`, profileId: p.id }], T0);
      return p;
    }

    it('keeps consent as an append-only ledger read through merged ids; subscription changes join it', async () => {
      const p = await customer('led', '+819000000001');
      await store.recordConsents(ws, [
        entry({ profileId: p.id, status: 'withdrawn', at: T0 + 10, source: 'staff' }),
      ]);
      const history = await store.listConsents(ws, p.id);
      expect(history.map((e) => [e.purpose, e.status, e.topic, e.method])).toEqual([
        ['profiling', 'granted', null, 'checkbox'],
        ['email_marketing', 'granted', 'news', 'subscription'],
        ['profiling', 'withdrawn', null, 'checkbox'],
      ]);
      expect(history.every((e) => e.profileId === p.id)).toBe(true);
      await store.setSubscription(ws, {
        channel: 'email',
        address: 'led@example.com',
        topic: '*',
        status: 'unsubscribed',
        source: 'one-click',
        at: T0 + 20,
        consent: { method: 'one_click', textVersion: null },
      });
      const both = await store.consentsOf(ws, [p.id, 'nobody']);
      expect(both.get(p.id)?.at(-1)).toMatchObject({
        purpose: 'email_marketing',
        status: 'withdrawn',
        topic: null,
        source: 'one-click',
        method: 'one_click',
      });
      expect(both.has('nobody')).toBe(false);
      expect(await store.listConsents('other-ws', p.id)).toEqual([]);
    });

    it('erases a customer everywhere in one go, idempotently, leaving others and a log without personal data', async () => {
      const gone = await customer('gone', '+819000000002');
      const kept = await customer('kept', '+819000000003');
      const ids = [gone.id, ...(await mergedIds(gone.id))];
      expect(ids.length).toBe(2);
      const r = await store.eraseProfile(ws, gone.id, { id: 'er1', requestedBy: 'api', now: T0 + 100 });
      expect(r.status).toBe('erased');
      const counts = r.status === 'erased' ? r.record.counts : {};
      expect(counts).toMatchObject({ profiles: 2, events: 5, identities: 5, devices: 1, coupon_codes: 1 });
      expect(counts['subscriptions']).toBe(1);
      expect(counts['suppressions']).toBe(1);

      // Discovered from the schema, so a table added later is checked too.
      const tables = await raw.tablesWithColumn('profile_id');
      expect(tables).toEqual(
        expect.arrayContaining(['events', 'identities', 'consent_events', 'survey_responses']),
      );
      for (const t of tables) expect([t, await raw.countIn(t, 'profile_id', ids)]).toEqual([t, 0]);
      expect(await raw.countIn('profiles', 'id', ids)).toBe(0);
      for (const text of [
        'gone-user',
        'gone-anon',
        'gone@example.com',
        'gone Name',
        'gone-token',
        'gone comment',
        'gone called',
      ])
        expect([text, await raw.rowsContaining(text)]).toEqual([text, []]);
      // The coupon code stays spent: it is not handed out again.
      expect(await raw.rowsContaining('gone-CODE')).toEqual([{ table: 'coupon_codes', rows: 1 }]);
      const again = await store.assignCoupons(
        ws,
        [{ pool: 'spring', messageKey: 'x', profileId: kept.id }],
        T0,
      );
      expect([...again.values()]).toEqual([null]);

      expect(await store.getProfile(ws, kept.id)).toMatchObject({ traits: { name: 'kept Name' } });
      expect((await store.listConsents(ws, kept.id)).length).toBe(2);
      expect(await store.isErased(ws, gone.id)).toBe(true);
      expect(await store.isErased(ws, kept.id)).toBe(false);
      expect(await store.eraseProfile(ws, gone.id, { id: 'er2', requestedBy: 'api', now: T0 + 200 })).toEqual(
        {
          status: 'already_erased',
        },
      );
      expect(await store.eraseProfile(ws, 'p-none', { id: 'er3', requestedBy: 'api', now: T0 })).toEqual({
        status: 'not_found',
      });
      const log = await store.listErasures(ws, 10);
      expect(log).toEqual([{ id: 'er1', erasedAt: T0 + 100, requestedBy: 'api', counts }]);
      for (const id of ids) expect(JSON.stringify(log)).not.toContain(id);
    });

    it('drops and counts late or replayed events of an erased customer; others are stored', async () => {
      const gone = await customer('late', '+819000000004');
      await store.eraseProfile(ws, gone.id, { id: 'er1', requestedBy: 'api', now: T0 + 100 });
      const replay = await store.ingest(ws, [
        testEvent({ userId: 'late-user', messageId: 'late-1b', timestamp: T0 + 200 }),
        testEvent({ anonymousId: 'late-anon', messageId: 'late-1c', timestamp: T0 + 200 }),
        testEvent({
          type: 'identify',
          traits: { email: 'LATE@example.com' },
          anonymousId: 'new',
          messageId: 'x1',
        }),
        testEvent({ userId: 'someone-else', messageId: 'fine-1' }),
      ]);
      expect(replay).toMatchObject({ stored: 1, discarded: 3, duplicates: 0 });
      expect(await store.lookupProfile(ws, { kind: 'user_id', value: 'late-user' })).toBeNull();
      expect(await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'new' })).toBeNull();
      expect(await store.lookupProfile(ws, { kind: 'user_id', value: 'someone-else' })).not.toBeNull();
      expect(await store.tombstoneHits(ws)).toBe(3);
      // Tombstones are per workspace: the same ids elsewhere are a new customer.
      const other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' }))
        .id;
      expect(await store.ingest(other, [testEvent({ userId: 'late-user', messageId: 'o1' })])).toMatchObject({
        stored: 1,
        discarded: 0,
      });
    });

    it('exports everything about a customer by section, events in pages of 1,000', async () => {
      const p = await customer('exp', '+819000000005');
      await customer('someone', '+819000000006');
      const many = Array.from({ length: 2100 }, (_, i) =>
        testEvent({ userId: 'exp-user', messageId: `bulk-${i}`, timestamp: T0 + 10 + i }),
      );
      for (let i = 0; i < many.length; i += 500) await store.ingest(ws, many.slice(i, i + 500));
      const pages: ExportPage[] = [];
      for await (const page of store.exportProfile(ws, p.id)) pages.push(page);
      expect(pages.filter((x) => x.section === 'events').map((x) => x.rows.length)).toEqual([
        1000, 1000, 105,
      ]);
      const got = await collect(store.exportProfile(ws, p.id));
      expect(got.get('profile')!.length).toBe(2);
      expect(got.get('profile')!.find((r) => r['merged_into'] === null)).toMatchObject({
        id: p.id,
        traits: { email: 'exp@example.com', name: 'exp Name' },
      });
      expect(
        got
          .get('identities')!
          .map((r) => r['value'])
          .sort(),
      ).toEqual(['+819000000005', 'exp-anon', 'exp-anon2', 'exp-user', 'exp@example.com'].sort());
      for (const s of [
        'consent_events',
        'survey_responses',
        'feedback',
        'inapp_interactions',
        'card_states',
        'coupon_codes',
        'devices',
        'group_members',
      ])
        expect([s, got.get(s)?.length]).toEqual([s, s === 'consent_events' ? 2 : 1]);
      expect(got.get('subscriptions')).toMatchObject([
        { channel: 'email', address: 'exp@example.com', topic: 'news' },
      ]);
      expect(got.get('suppressions')).toMatchObject([{ channel: 'sms', address: '+819000000005' }]);
      expect(got.get('events')![0]).toMatchObject({
        message_id: 'exp-1',
        payload: { anonymousId: 'exp-anon' },
      });
      expect(JSON.stringify([...got.values()])).not.toContain('someone');
      expect(await collect(store.exportProfile(ws, 'p-none'))).toEqual(new Map());
    });

    it('deletes raw events before a time in batches, keeping profiles and their facts', async () => {
      const p = await customer('old', '+819000000007');
      await store.ingest(ws, [testEvent({ userId: 'old-user', messageId: 'new-1', timestamp: T0 + 1000 })]);
      expect(await store.deleteEventsBefore(ws, T0 + 1000, 2)).toBe(2);
      expect(await store.deleteEventsBefore(ws, T0 + 1000, 100)).toBe(3);
      expect(await store.deleteEventsBefore(ws, T0 + 1000, 100)).toBe(0);
      const left = await store.listProfileEvents(ws, p.id, { limit: 10 });
      expect(left.events.map((e) => e.messageId)).toEqual(['new-1']);
      expect(await store.getProfile(ws, p.id)).toMatchObject({ eventCount: 6, traits: { name: 'old Name' } });
    });

    it('keeps profiling consent in the facts: a withdrawal leaves profiling segments at once and for good', async () => {
      const put = (id: string, requiresProfiling: boolean) =>
        store.changeDefinitions(
          ws,
          {
            kind: 'put_segment',
            segment: {
              id,
              name: id,
              description: '',
              rule: { event: 'Viewed' },
              status: 'ready',
              requiresProfiling,
            },
          },
          T0,
        );
      await put('seg_prof', true);
      await put('seg_plain', false);
      const view = (n: number) =>
        testEvent({ userId: 'pro-user', name: 'Viewed', messageId: `pro-${n}`, timestamp: T0 + n });
      await store.ingest(ws, [view(1)]);
      const p = (await store.lookupProfile(ws, { kind: 'user_id', value: 'pro-user' }))!;
      expect(p.segments).toEqual(['seg_plain', 'seg_prof']);
      expect((await store.getSegment(ws, 'seg_prof'))?.requiresProfiling).toBe(true);

      await store.recordConsents(ws, [entry({ profileId: p.id, status: 'withdrawn', at: T0 + 10 })]);
      // Gone before the call returned, with the exit on the event stream; the other segment stays.
      expect((await store.getProfile(ws, p.id))?.segments).toEqual(['seg_plain']);
      expect((await store.listSegmentMembers(ws, 'seg_prof', { limit: 10 })).profileIds).toEqual([]);
      const stream = await store.listEngagementEvents(ws, { after: 0, limit: 50, profileId: p.id });
      expect(stream.filter((e) => e.subject === 'seg_prof').map((e) => e.type)).toEqual([
        'Segment Entered',
        'Segment Exited',
      ]);
      expect((await store.listConsents(ws, p.id)).map((e) => e.status)).toEqual(['withdrawn']);
      // Not re-added while withdrawn: not by new events, not by a re-evaluation, not by an older grant.
      await store.ingest(ws, [view(20)]);
      await store.reevaluateProfiles(ws, { after: null, limit: 10, now: T0 + 30, rebuildFacts: true });
      await store.recordConsents(ws, [entry({ profileId: p.id, status: 'granted', at: T0 + 5 })]);
      expect((await store.getProfile(ws, p.id))?.segments).toEqual(['seg_plain']);
      // A later grant lets the rule decide again.
      await store.recordConsents(ws, [entry({ profileId: p.id, status: 'granted', at: T0 + 40 })]);
      expect((await store.getProfile(ws, p.id))?.segments).toEqual(['seg_plain', 'seg_prof']);
    });

    it('answers consent rules from the ledger: API entries and subscription changes move members at once', async () => {
      await store.changeDefinitions(
        ws,
        {
          kind: 'put_segment',
          segment: {
            id: 'seg_mail_ok',
            name: 'may get marketing e-mail',
            description: '',
            rule: { consent: 'email_marketing' },
            status: 'ready',
          },
        },
        T0,
      );
      const members = async () =>
        (await store.listSegmentMembers(ws, 'seg_mail_ok', { limit: 10 })).profileIds.length;
      // Never asked: the trait some shops send with identify still counts.
      const viaTrait = await customer('trait', '+819000000011');
      await store.ingest(ws, [
        testEvent({
          type: 'identify',
          userId: 'trait-user',
          messageId: 'c-trait',
          timestamp: T0 + 1,
          traits: { consents: { email_marketing: true } },
        }),
      ]);
      expect((await store.getProfile(ws, viaTrait.id))?.segments).toContain('seg_mail_ok');
      // The ledger outranks the trait once the customer was asked.
      await store.recordConsents(ws, [
        entry({ profileId: viaTrait.id, purpose: 'email_marketing', status: 'withdrawn', at: T0 + 2 }),
      ]);
      expect((await store.getProfile(ws, viaTrait.id))?.segments).not.toContain('seg_mail_ok');

      const p = await customer('sub', '+819000000012');
      expect((await store.getProfile(ws, p.id))?.segments).not.toContain('seg_mail_ok');
      const sub = (status: 'subscribed' | 'unsubscribed' | 'pending', topic: string, at: number) =>
        store.setSubscription(ws, {
          channel: 'email',
          address: 'sub@example.com',
          topic,
          status,
          source: 'preference-centre',
          at,
        });
      // A pending double opt-in is not consent, nor is one topic: only `*` is the whole purpose.
      await sub('pending', '*', T0 + 3);
      await sub('subscribed', 'news', T0 + 4);
      expect((await store.getProfile(ws, p.id))?.segments).not.toContain('seg_mail_ok');
      await sub('subscribed', '*', T0 + 5);
      expect((await store.getProfile(ws, p.id))?.segments).toContain('seg_mail_ok');
      expect(await members()).toBe(1);
      await sub('unsubscribed', '*', T0 + 6);
      expect((await store.getProfile(ws, p.id))?.segments).not.toContain('seg_mail_ok');
      expect(await members()).toBe(0);
      const stream = await store.listEngagementEvents(ws, { after: 0, limit: 50, profileId: p.id });
      expect(stream.filter((e) => e.subject === 'seg_mail_ok').map((e) => e.type)).toEqual([
        'Segment Entered',
        'Segment Exited',
      ]);
      // An older grant arriving late changes nothing; a full rebuild keeps the ledger state.
      await store.recordConsents(ws, [
        entry({ profileId: p.id, purpose: 'email_marketing', status: 'granted', at: T0 + 1 }),
      ]);
      await store.reevaluateProfiles(ws, { after: null, limit: 10, now: T0 + 30, rebuildFacts: true });
      expect((await store.getProfile(ws, p.id))?.segments).not.toContain('seg_mail_ok');

      // Profiles stored before facts kept every purpose: migration 0028 fills the state in from the ledger.
      await sub('subscribed', '*', T0 + 40);
      await raw.exec(
        raw.dialect === 'sqlite'
          ? "UPDATE profiles SET facts = json_remove(facts, '$.c') WHERE facts IS NOT NULL"
          : "UPDATE profiles SET facts = (facts::jsonb - 'c')::json WHERE facts IS NOT NULL",
      );
      const again = { after: null, limit: 10, now: T0 + 50, rebuildFacts: false } as const;
      await store.reevaluateProfiles(ws, again);
      expect((await store.getProfile(ws, p.id))?.segments).not.toContain('seg_mail_ok');
      await raw.exec('DELETE FROM schema_migrations WHERE version = 28');
      expect(await store.migrate()).toEqual({ applied: ['0028_consent_facts'] });
      await store.reevaluateProfiles(ws, again);
      expect((await store.getProfile(ws, p.id))?.segments).toContain('seg_mail_ok');
      expect((await store.getProfile(ws, viaTrait.id))?.segments).not.toContain('seg_mail_ok');
    });

    it('lifts the tombstones of identities a returning customer names; erased profile ids stay erased', async () => {
      const gone = await customer('back', '+819000000008');
      await store.eraseProfile(ws, gone.id, { id: 'er1', requestedBy: 'api', now: T0 + 100 });
      const replay = (m: string) => store.ingest(ws, [testEvent({ userId: 'back-user', messageId: m })]);
      expect(await replay('b1')).toMatchObject({ stored: 0, discarded: 1 });
      const lifted = await store.liftTombstones(ws, [
        { kind: 'user_id', value: 'back-user' },
        { kind: 'email', value: 'nobody@example.com' },
        { kind: 'user_id', value: gone.id },
      ]);
      expect(lifted).toEqual([{ kind: 'user_id', value: 'back-user' }]);
      expect(await replay('b2')).toMatchObject({ stored: 1, discarded: 0 });
      const back = await store.lookupProfile(ws, { kind: 'user_id', value: 'back-user' });
      expect(back?.id).not.toBe(gone.id);
      // Still tombstoned: the e-mail nobody lifted, and the old profile id.
      expect(
        await store.ingest(ws, [
          testEvent({
            type: 'identify',
            anonymousId: 'x',
            traits: { email: 'back@example.com' },
            messageId: 'b3',
          }),
        ]),
      ).toMatchObject({ stored: 0, discarded: 1 });
      expect(await store.isErased(ws, gone.id)).toBe(true);
      expect(await store.liftTombstones(ws, [{ kind: 'user_id', value: 'back-user' }])).toEqual([]);
    });

    it('stores privacy settings as a document', async () => {
      expect(await store.getPrivacySettings(ws)).toBeNull();
      const s = { retention_months: 13, purposes: ['research'], profiling_required: true };
      await store.putPrivacySettings(ws, s, T0);
      expect(await store.getPrivacySettings(ws)).toEqual(s);
    });

    async function mergedIds(id: string): Promise<string[]> {
      const rows: string[] = [];
      const got = await collect(store.exportProfile(ws, id));
      for (const r of got.get('profile') ?? []) if (r['id'] !== id) rows.push(String(r['id']));
      return rows;
    }
  });
}
