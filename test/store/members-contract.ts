import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SegmentBuilder } from '../../src/engine/builder.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const logger = pino({ level: 'silent' });

/**
 * Segment memberships kept once, in `segment_members` (migration 0030), on every adapter: a profile's
 * segments are read from there by every reader, a build's confirmation writes the membership rows and
 * never the profile row, merges and erasure take the memberships with them, and the migration carries
 * the old `profiles.segments` lists over where the two copies disagreed.
 */
export interface MembersHarness extends StoreHarness {
  /** runs SQL on the store's database on a connection of its own and returns its rows */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** runs several statements on a connection of its own */
  exec(sql: string): Promise<void>;
  dialect: 'sqlite' | 'postgres';
  /** the dialect's migration 0030 */
  migration: string;
}

/** A table `profile_writes` that records every UPDATE of a profile row from now on. */
function watchProfileWrites(dialect: MembersHarness['dialect']): string[] {
  return dialect === 'sqlite'
    ? [
        'CREATE TABLE profile_writes (id TEXT NOT NULL)',
        `CREATE TRIGGER profile_written AFTER UPDATE ON profiles
         BEGIN INSERT INTO profile_writes (id) VALUES (new.id); END`,
      ]
    : [
        'CREATE TABLE profile_writes (id text NOT NULL)',
        `CREATE FUNCTION profile_written() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN INSERT INTO profile_writes (id) VALUES (NEW.id); RETURN NEW; END $$`,
        `CREATE TRIGGER profile_written AFTER UPDATE ON profiles
         FOR EACH ROW EXECUTE FUNCTION profile_written()`,
      ];
}

export function membersContract(name: string, harness: () => MembersHarness): void {
  describe(`${name} segment members contract`, () => {
    let h: MembersHarness;
    let clock: ManualClock;
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      clock = new ManualClock(T0);
      store = await h.open(clock);
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(() => store.close());

    const order = (userId: string, messageId: string) =>
      testEvent({ userId, messageId, name: 'Order Completed', timestamp: clock.now() });
    const view = (userId: string, messageId: string) =>
      testEvent({ userId, messageId, name: 'Product Viewed', timestamp: clock.now() });
    const putSegment = (id: string, rule: unknown, status: 'building' | 'ready') =>
      store.changeDefinitions(
        ws,
        { kind: 'put_segment', segment: { id, name: id, description: '', rule, status } },
        clock.now(),
      );
    const idOf = async (userId: string) =>
      (await store.lookupProfile(ws, { kind: 'user_id', value: userId }))!.id;
    const memberRows = async (profileId: string) =>
      (
        await h.query(
          `SELECT segment_id FROM segment_members WHERE profile_id = '${profileId}' ORDER BY segment_id`,
        )
      ).map((r) => r.segment_id);

    it("reads a profile's segments back after a build that never wrote the profile row", async () => {
      await putSegment('seg_viewers', { event: 'Product Viewed' }, 'ready');
      await store.ingest(ws, [order('u1', 'o1'), order('u2', 'o2'), view('u2', 'v2'), view('u3', 'v3')]);
      const [u1, u2, u3] = [await idOf('u1'), await idOf('u2'), await idOf('u3')];
      for (const sql of watchProfileWrites(h.dialect)) await h.exec(sql);
      clock.advance(60_000);
      await putSegment('seg_buyers', { event: 'Order Completed' }, 'building');
      await new SegmentBuilder(store, clock, logger, 0).build(ws, { rebuildFacts: false });
      expect((await store.getSegment(ws, 'seg_buyers'))?.status).toBe('ready');

      // The build wrote two memberships and no profile row.
      expect(await h.query('SELECT id FROM profile_writes')).toEqual([]);
      expect((await store.listSegmentMembers(ws, 'seg_buyers', { limit: 10 })).profileIds).toEqual(
        [u1, u2].sort(),
      );
      // Every reader sees them: the profile API, the evaluation state, a scan page.
      expect((await store.getProfile(ws, u1))?.segments).toEqual(['seg_buyers']);
      expect((await store.getProfile(ws, u2))?.segments).toEqual(['seg_buyers', 'seg_viewers']);
      expect((await store.getProfile(ws, u3))?.segments).toEqual(['seg_viewers']);
      expect((await store.getProfileState(ws, u2))?.engagement.segments).toEqual([
        'seg_buyers',
        'seg_viewers',
      ]);
      const states = await store.getProfileStates(ws, [u1, u3]);
      expect(states.get(u1)?.engagement.segments).toEqual(['seg_buyers']);
      expect(states.get(u3)?.engagement.segments).toEqual(['seg_viewers']);
      const page = await store.scanProfileStates(ws, { after: null, limit: 10 });
      expect(new Map(page.profiles.map((p) => [p.id, p.engagement.segments]))).toEqual(
        new Map([
          [u1, ['seg_buyers']],
          [u2, ['seg_buyers', 'seg_viewers']],
          [u3, ['seg_viewers']],
        ]),
      );
      const projected = await store.scanProfileStates(ws, {
        after: null,
        limit: 10,
        facts: { events: ['track:Order Completed'], traits: false },
      });
      expect(projected.profiles.map((p) => p.engagement.segments)).toEqual(
        page.profiles.map((p) => p.engagement.segments),
      );

      // Ingest evaluates with the memberships the build wrote: another event of u1 neither enters
      // the segment again nor emits anything for it.
      const stream = await store.listEngagementEvents(ws, { after: 0, limit: 100 });
      await store.ingest(ws, [view('u1', 'v1')]);
      const added = (await store.listEngagementEvents(ws, { after: stream.at(-1)!.id, limit: 100 })).map(
        (e) => [e.type, e.subject, e.profileId],
      );
      expect(added).toEqual([['Segment Entered', 'seg_viewers', u1]]);
      expect(await memberRows(u1)).toEqual(['seg_buyers', 'seg_viewers']);
    });

    it('confirms a build whose rules read traits and event series, with and without members leaving', async () => {
      await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'u1', messageId: 'i1', traits: { plan: 'gold' } }),
        testEvent({ type: 'identify', userId: 'u2', messageId: 'i2', traits: { plan: 'free' } }),
        order('u1', 'o1'),
        order('u2', 'o2'),
      ]);
      const [u1, u2] = [await idOf('u1'), await idOf('u2')];
      const builder = new SegmentBuilder(store, clock, logger, 0);
      const rule = (plan: string) => ({
        and: [{ event: 'Order Completed' }, { trait: 'plan', op: 'eq', value: plan }],
      });
      await putSegment('seg_gold', rule('gold'), 'building');
      await builder.build(ws, { rebuildFacts: false });
      expect(await memberRows(u1)).toEqual(['seg_gold']);
      expect(await memberRows(u2)).toEqual([]);
      // A changed rule rebuilds: u1 leaves, u2 enters; the switch emits no events.
      await putSegment('seg_gold', rule('free'), 'building');
      await builder.build(ws, { rebuildFacts: false });
      expect(await memberRows(u1)).toEqual([]);
      expect(await memberRows(u2)).toEqual(['seg_gold']);
      expect((await store.getProfile(ws, u2))?.segments).toEqual(['seg_gold']);
      const stream = await store.listEngagementEvents(ws, { after: 0, limit: 100 });
      expect(stream.filter((e) => e.type !== 'Stage Entered')).toEqual([]);
    });

    it("moves a merged-away profile's memberships to its survivor", async () => {
      await putSegment('seg_viewers', { event: 'Product Viewed' }, 'ready');
      await putSegment('seg_buyers', { event: 'Order Completed' }, 'ready');
      await store.ingest(ws, [
        testEvent({ anonymousId: 'anon', messageId: 'a1', name: 'Product Viewed', timestamp: clock.now() }),
        order('u1', 'o1'),
      ]);
      const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
      const u1 = await idOf('u1');
      expect(await memberRows(anon)).toEqual(['seg_viewers']);
      expect(await memberRows(u1)).toEqual(['seg_buyers']);
      await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'u1', anonymousId: 'anon', messageId: 'i1' }),
      ]);
      // The survivor holds both memberships; the loser holds none, and its id reads the survivor.
      expect(await memberRows(u1)).toEqual(['seg_buyers', 'seg_viewers']);
      expect(await memberRows(anon)).toEqual([]);
      expect((await store.getProfile(ws, anon))?.segments).toEqual(['seg_buyers', 'seg_viewers']);
      expect((await store.getProfileState(ws, u1))?.engagement.segments).toEqual([
        'seg_buyers',
        'seg_viewers',
      ]);
      expect((await store.getSegment(ws, 'seg_viewers'))?.size).toBe(1);
      expect((await store.listSegmentMembers(ws, 'seg_viewers', { limit: 10 })).profileIds).toEqual([u1]);
    });

    it("removes an erased profile's memberships", async () => {
      await putSegment('seg_buyers', { event: 'Order Completed' }, 'ready');
      await store.ingest(ws, [order('u1', 'o1'), order('u2', 'o2')]);
      const [u1, u2] = [await idOf('u1'), await idOf('u2')];
      expect((await store.getSegment(ws, 'seg_buyers'))?.size).toBe(2);
      const r = await store.eraseProfile(ws, u1, { id: 'er1', requestedBy: 'api', now: clock.now() });
      expect(r.status).toBe('erased');
      expect(await memberRows(u1)).toEqual([]);
      expect(await memberRows(u2)).toEqual(['seg_buyers']);
      expect((await store.getSegment(ws, 'seg_buyers'))?.size).toBe(1);
      expect((await store.listSegmentMembers(ws, 'seg_buyers', { limit: 10 })).profileIds).toEqual([u2]);
    });

    it("carries the old profiles' segment lists into segment_members where they disagree", async () => {
      await putSegment('seg_a', { event: 'Order Completed' }, 'ready');
      await putSegment('seg_b', { event: 'Product Viewed' }, 'ready');
      await store.ingest(ws, [order('u1', 'o1'), order('u2', 'o2'), view('u3', 'v3')]);
      await store.ingest(ws, [
        testEvent({ anonymousId: 'anon', messageId: 'a1', name: 'Order Completed', timestamp: clock.now() }),
      ]);
      const [u1, u2, u3] = [await idOf('u1'), await idOf('u2'), await idOf('u3')];
      const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon' }))!.id;
      await store.ingest(ws, [
        testEvent({ type: 'identify', userId: 'u1', anonymousId: 'anon', messageId: 'i1' }),
      ]);
      const updatedAt = Number(
        (await h.query(`SELECT updated_at FROM profiles WHERE id = '${u3}'`))[0]!.updated_at,
      );
      // The schema as it was before 0030, with lists that disagree with the membership rows:
      // u1 lists what its rows hold; u2's row lists nothing though it has a membership row; u3's
      // lists seg_a besides seg_b, and a segment since deleted; the merged-away anon lists seg_a
      // and still has a stray membership row.
      const sqlite = h.dialect === 'sqlite';
      const list = (ids: string[]) =>
        sqlite ? `'${JSON.stringify(ids)}'` : `'${JSON.stringify(ids)}'::jsonb`;
      await h.query(
        sqlite
          ? "ALTER TABLE profiles ADD COLUMN segments TEXT NOT NULL DEFAULT '[]'"
          : "ALTER TABLE profiles ADD COLUMN segments jsonb NOT NULL DEFAULT '[]'",
      );
      await h.query(`UPDATE profiles SET segments = ${list(['seg_a'])} WHERE id = '${u1}'`);
      await h.query(
        `UPDATE profiles SET segments = ${list(['seg_a', 'seg_b', 'seg_gone'])} WHERE id = '${u3}'`,
      );
      await h.query(`UPDATE profiles SET segments = ${list(['seg_a'])} WHERE id = '${anon}'`);
      await h.query(
        `INSERT INTO segment_members (workspace_id, segment_id, profile_id, entered_at)
         VALUES ('${ws}', 'seg_b', '${anon}', 1)`,
      );
      expect(await memberRows(u2)).toEqual(['seg_a']);

      const sql = readFileSync(h.migration, 'utf8');
      await h.exec(`BEGIN; ${sql}; COMMIT;`);

      expect(await memberRows(u1)).toEqual(['seg_a']);
      expect(await memberRows(u2)).toEqual([]);
      expect(await memberRows(u3)).toEqual(['seg_a', 'seg_b']);
      expect(await memberRows(anon)).toEqual([]);
      const carried = await h.query(
        `SELECT entered_at FROM segment_members WHERE profile_id = '${u3}' AND segment_id = 'seg_a'`,
      );
      expect(carried.map((r) => Number(r.entered_at))).toEqual([updatedAt]);
      // The column is gone, and the store reads the memberships as carried.
      await expect(h.query('SELECT segments FROM profiles')).rejects.toThrow();
      expect((await store.getProfile(ws, u3))?.segments).toEqual(['seg_a', 'seg_b']);
      expect((await store.getProfile(ws, u2))?.segments).toEqual([]);
    });
  });
}
