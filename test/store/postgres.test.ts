import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { NormalizedEvent } from '../../src/domain/event.js';
import { testEvent } from '../../src/domain/testing.js';
import { StoreUnavailableError } from '../../src/errors.js';
import { loadMigrations } from '../../src/store/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { LOAD_PROFILES } from '../../src/store/postgres/ingest-statements.js';
import { postgresUnavailable, querySql, runSql, scratchDatabase, serverUrl } from '../support/postgres.js';
import { storeContract } from './contract.js';
import { journeyContract } from './journey-contract.js';
import { deliveryContract } from './delivery-contract.js';
import { contactContract } from './contact-contract.js';
import { couponContract } from './coupon-contract.js';
import { preferenceContract } from './preference-contract.js';
import { catalogContract } from './catalog-contract.js';
import { inAppContract } from './inapp-contract.js';
import { surveyContract } from './survey-contract.js';
import { rightsContract, type RawDb } from './rights-contract.js';
import pg from 'pg';
import { accessContract } from './access-contract.js';
import { reportContract } from './report-contract.js';
import { activityContract } from './activity-contract.js';
import { membersContract } from './members-contract.js';

/**
 * The store contract on a real PostgreSQL server: one fresh database per run of this file, dropped at
 * the end; every test starts from an empty schema. Without a reachable server the suite is skipped
 * with a warning, unless KIZUNA_REQUIRE_POSTGRES=1 (CI), where that is a failure.
 */
const unreachable = await postgresUnavailable('the postgres store contract');
const { name: database, url: databaseUrl } = scratchDatabase();
const run = runSql;

// A new, empty schema: the next test's migrate() really applies every migration again.
const resetSchema = () => run(databaseUrl, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public');

describe.skipIf(unreachable !== null)('postgres', () => {
  beforeAll(() => run(serverUrl, `CREATE DATABASE ${database}`));
  afterAll(() => run(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));

  storeContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  journeyContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  deliveryContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  contactContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  couponContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  preferenceContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  catalogContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  inAppContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  surveyContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));
  accessContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
    raw: (sql) => run(databaseUrl, sql),
  }));

  reportContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
  }));

  activityContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
    query: (sql) => querySql(databaseUrl, sql),
    migrations: ['0027_event_activity.sql', '0031_activity_years.sql'].map((f) =>
      fileURLToPath(new URL(`../../src/store/postgres/migrations/${f}`, import.meta.url)),
    ),
  }));

  membersContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
    query: (sql) => querySql(databaseUrl, sql),
    exec: (sql) => run(databaseUrl, sql),
    dialect: 'postgres',
    migration: fileURLToPath(
      new URL('../../src/store/postgres/migrations/0030_segment_members_only.sql', import.meta.url),
    ),
  }));

  rightsContract('postgres', () => ({
    open: (clock) => Promise.resolve(PostgresStore.open({ url: databaseUrl, clock })),
    reset: resetSchema,
    raw: () => postgresRaw(databaseUrl),
  }));

  // What only a multi-process store must get right, beyond the shared contract.
  describe('postgres adapter', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
    const opened: PostgresStore[] = [];
    const open = (url = databaseUrl) => {
      const s = PostgresStore.open({ url, clock });
      opened.push(s);
      return s;
    };
    const workspace = async (s: PostgresStore) => {
      await s.migrate();
      return (await s.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    };

    beforeEach(resetSchema);
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('applies each migration exactly once when several processes migrate at once', async () => {
      const runs = await Promise.all([open(), open(), open()].map((s) => s.migrate()));
      const all = loadMigrations(
        fileURLToPath(new URL('../../src/store/postgres/migrations', import.meta.url)),
      );
      expect(runs.flatMap((r) => r.applied).sort()).toEqual(all.map((m) => m.name));
    });

    it('stores a messageId racing in from two writers once, whatever identities the copies carry', async () => {
      const [a, b] = [open(), open()];
      const ws = await workspace(a);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => [
          a.ingest(ws, [testEvent({ anonymousId: `x${i}`, messageId: `m${i}` })]),
          b.ingest(ws, [testEvent({ anonymousId: `y${i}`, messageId: `m${i}` })]),
        ]).flat(),
      );
      expect(results.reduce((n, r) => n + r.stored, 0)).toBe(20);
      expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(20);
    });

    it('keeps every trait and member of a group that concurrent writers update', async () => {
      const [a, b] = [open(), open()];
      const ws = await workspace(a);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).ingest(ws, [
            testEvent({
              type: 'group',
              userId: `u${i}`,
              groupId: 'acme',
              traits: { [`k${i}`]: i },
              messageId: `g${i}`,
            }),
          ]),
        ),
      );
      const g = await a.getGroup(ws, 'acme');
      expect(Object.keys(g?.traits ?? {})).toHaveLength(40);
      expect(g?.memberCount).toBe(40);
    });

    it('serialises a batch with too many identity keys to lock one by one against concurrent small ones', async () => {
      const [a, b] = [open(), open()];
      const ws = await workspace(a);
      const big: NormalizedEvent[] = [];
      for (let u = 0; u < 300; u++)
        big.push(testEvent({ userId: `u${u}`, anonymousId: `a${u}`, messageId: `big${u}` }));
      const small = Array.from({ length: 30 }, (_, i) =>
        [0, 1, 2].map((k) => testEvent({ anonymousId: `a${i * 10 + k}`, messageId: `small${i}-${k}` })),
      );
      await Promise.all([a.ingest(ws, big), ...small.map((batch, i) => (i % 2 ? a : b).ingest(ws, batch))]);
      for (const u of [0, 1, 2, 150, 291]) {
        const p = await b.lookupProfile(ws, { kind: 'user_id', value: `u${u}` });
        expect(p?.eventCount, `u${u}`).toBe(u % 10 < 3 ? 2 : 1);
        expect((await b.lookupProfile(ws, { kind: 'anonymous_id', value: `a${u}` }))?.id).toBe(p?.id);
      }
    });

    it('counts every event name exactly when many writers add to the counters at once', async () => {
      const [a, b] = [open(), open()];
      const ws = await workspace(a);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).ingest(
            ws,
            [0, 1, 2].map((k) =>
              testEvent({ userId: `u${i}`, name: k === 2 ? 'Paid' : 'Viewed', messageId: `n${i}-${k}` }),
            ),
          ),
        ),
      );
      const names = await b.listEventNames(ws);
      expect(names.map((n) => [n.name, n.count])).toEqual([
        ['Viewed', 80],
        ['Paid', 40],
      ]);
    });

    it("evaluates an ingest that waited for a profile's lock with the memberships committed meanwhile", async () => {
      const s = open();
      const ws = await workspace(s);
      await s.changeDefinitions(
        ws,
        {
          kind: 'put_segment',
          segment: {
            id: 'seg_buyers',
            name: 'Buyers',
            description: '',
            rule: { event: 'Order Completed' },
            status: 'ready',
          },
        },
        clock.now(),
      );
      const buy = (messageId: string) =>
        testEvent({ userId: 'u1', name: 'Order Completed', messageId, timestamp: clock.now() });
      await s.ingest(ws, [buy('o1')]);
      const id = (await s.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      // Stage what a build's confirmation does (the profile held by another writer, its membership
      // row written, the profile row not): here the row is taken out first, then put back while an
      // ingest of the same profile waits for the lock.
      await run(databaseUrl, `DELETE FROM segment_members WHERE profile_id = '${id}'`);
      const other = new pg.Client({ connectionString: databaseUrl });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query(`SELECT id FROM profiles WHERE id = $1 FOR UPDATE`, [id]);
        const ingest = s.ingest(ws, [buy('o2')]);
        // until the ingest waits for the row lock
        for (let i = 0; i < 200; i++) {
          const waiting = await querySql(
            databaseUrl,
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
          );
          if (waiting.length > 0) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        await other.query(
          `INSERT INTO segment_members (workspace_id, segment_id, profile_id, entered_at) VALUES ($1, 'seg_buyers', $2, 1)`,
          [ws, id],
        );
        await other.query('COMMIT');
        await ingest;
      } finally {
        await other.end();
      }
      // The ingest saw the membership: no second entry, no second Segment Entered.
      const entered = (await s.listEngagementEvents(ws, { after: 0, limit: 100 })).filter(
        (e) => e.type === 'Segment Entered',
      );
      expect(entered).toHaveLength(1);
      expect((await s.getProfile(ws, id))?.segments).toEqual(['seg_buyers']);
    });

    it("plans the ingest's profile load as key probes, even when its plan was made on a small table", async () => {
      const s = open();
      const ws = await workspace(s);
      const batch = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) =>
          testEvent({ userId: `u${from + i}`, anonymousId: `a${from + i}`, messageId: `m${from + i}` }),
        );
      const keys = [2, 500, 999].flatMap((u) => [`anonymous_id:a${u}`, `user_id:u${u}`]);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const args: Record<string, string | string[]> = {
          ws,
          kinds: keys.map((k) => k.split(':')[0]!),
          values: keys.map((k) => k.split(':')[1]!),
        };
        // EXPLAIN takes no parameters: the arguments go in as literals (plain words here).
        const literal = (v: string | string[]) =>
          client.escapeLiteral(Array.isArray(v) ? `{${v.map((x) => `"${x}"`).join(',')}}` : v);
        const execute = `EXECUTE load_profiles(${LOAD_PROFILES.params.map((p) => literal(args[p]!)).join(', ')})`;
        // The generic plan is made while the workspace is small and has no statistics, as on a
        // connection in a new store's first minute, and kept while the tables grow.
        await s.ingest(ws, batch(0, 300));
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(`PREPARE load_profiles AS ${LOAD_PROFILES.text}`);
        await client.query('BEGIN');
        await client.query(execute);
        await client.query('ROLLBACK');
        for (let i = 0; i < 7; i++) await s.ingest(ws, batch(300 + i * 100, 100));
        await client.query('BEGIN');
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${execute}`)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
        expect(plan).toContain('Index Scan using profiles_pkey');
        expect(plan).not.toMatch(/(Seq|Bitmap Heap) Scan on profiles|Merge Join|Hash Join/);
        // ...and it answers: each key's owner once per key, locked, in id order.
        const rows = (await client.query<{ kind: string; value: string; id: string }>(execute)).rows;
        await client.query('ROLLBACK');
        expect(rows).toHaveLength(6);
        const ids = rows.map((r) => r.id);
        expect(ids).toEqual([...ids].sort());
        for (const u of [2, 500, 999]) {
          const owner = (await s.lookupProfile(ws, { kind: 'user_id', value: `u${u}` }))!.id;
          expect(rows.filter((r) => r.id === owner).map((r) => `${r.kind}:${r.value}`)).toEqual([
            `anonymous_id:a${u}`,
            `user_id:u${u}`,
          ]);
        }
      } finally {
        await client.end();
      }
    });

    it('leaves rollup rows of days it already knows untouched, and still adds new days to them', async () => {
      const s = open();
      const ws = await workspace(s);
      const day = (d: number, h = 10) => Date.UTC(2026, 10, d, h);
      let n = 0;
      const at = (userId: string, name: string, timestamp: number) =>
        testEvent({ userId, name, timestamp, messageId: `r${n++}` });
      await s.ingest(ws, [at('u1', 'Viewed', day(1)), at('u2', 'Viewed', day(1)), at('u2', 'Paid', day(2))]);
      // Row versions and lockers: a row ON CONFLICT merely locked gets a new xmax.
      const versions = () =>
        querySql(
          databaseUrl,
          `SELECT 'a' AS t, name || '/' || kind || '/' || month AS k, profile_id, days::text AS bits, xmin::text, xmax::text
             FROM event_activity
           UNION ALL
           SELECT 'y', year::text, profile_id, concat_ws(',', m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12), xmin::text, xmax::text
             FROM event_activity_years
           ORDER BY 1, 2, 3`,
        );
      const before = await versions();
      expect(before.length).toBeGreaterThan(0);
      const known = await s.ingest(ws, [
        at('u1', 'Viewed', day(1, 18)),
        at('u2', 'Viewed', day(1, 11)),
        at('u2', 'Paid', day(2, 23)),
      ]);
      expect(known.stored).toBe(3);
      expect(await versions()).toEqual(before);
      // A new day in a known month, and a new name, in the same batch as known days.
      await s.ingest(ws, [
        at('u1', 'Viewed', day(1, 12)),
        at('u1', 'Viewed', day(3)),
        at('u2', 'Left', day(2)),
      ]);
      const after = await versions();
      const bits = (t: string, k: string, user: string) =>
        after
          .filter((r) => r.t === t && String(r.k).startsWith(k) && r.profile_id === user)
          .map((r) => r.bits);
      const u1 = (await s.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      const u2 = (await s.lookupProfile(ws, { kind: 'user_id', value: 'u2' }))!.id;
      expect(bits('a', 'Viewed/', u1)).toEqual([String((1 << 0) | (1 << 2))]);
      expect(bits('a', 'Viewed/', u2)).toEqual([String(1 << 0)]);
      expect(bits('a', 'Left/', u2)).toEqual([String(1 << 1)]);
      expect(bits('y', '2026', u1)).toEqual([`0,0,0,0,0,0,0,0,0,0,${(1 << 0) | (1 << 2)},0`]);
      expect(bits('y', '2026', u2)).toEqual([`0,0,0,0,0,0,0,0,0,0,${(1 << 0) | (1 << 1)},0`]);
    });

    it('reports with the profile load whether each key it finds no identity of is erased', async () => {
      const s = open();
      const ws = await workspace(s);
      await s.ingest(ws, [
        testEvent({ userId: 'gone', messageId: 'g1', timestamp: clock.now() }),
        testEvent({ userId: 'kept', messageId: 'k1', timestamp: clock.now() }),
      ]);
      const gone = (await s.lookupProfile(ws, { kind: 'user_id', value: 'gone' }))!.id;
      await s.eraseProfile(ws, gone, { id: 'er1', requestedBy: 'api', now: clock.now() });
      const keys = [
        ['user_id', 'gone'],
        ['user_id', 'kept'],
        ['user_id', 'new'],
      ];
      const args: Record<string, unknown> = {
        ws,
        kinds: keys.map((k) => k[0]),
        values: keys.map((k) => k[1]),
      };
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const rows = (
          await client.query<{ value: string; id: string | null; erased: boolean | null }>(
            LOAD_PROFILES.text,
            LOAD_PROFILES.params.map((p) => args[p]),
          )
        ).rows;
        const byValue = Object.fromEntries(rows.map((r) => [r.value, [r.id !== null, r.erased]]));
        expect(byValue).toEqual({ gone: [false, true], kept: [true, null], new: [false, false] });
      } finally {
        await client.end();
      }
      // The ingest drops the erased customer's events and stores the others'.
      const r = await s.ingest(ws, [
        testEvent({ userId: 'gone', messageId: 'g2', timestamp: clock.now() }),
        testEvent({ userId: 'new', messageId: 'n1', timestamp: clock.now() }),
      ]);
      expect([r.stored, r.discarded, r.profilesCreated]).toEqual([1, 1, 1]);
      expect(await s.tombstoneHits(ws)).toBe(1);
    });

    it('reports an unreachable server as StoreUnavailableError', async () => {
      const s = open('postgres://postgres@127.0.0.1:1/nowhere');
      await expect(s.migrate()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(s.getProfile('ws', 'p')).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});

/** The test database read directly, through its own connection. */
function postgresRaw(url: string): RawDb {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const q = async <R>(text: string, values: unknown[] = []) => (await pool.query(text, values)).rows as R[];
  const tables = async () =>
    (
      await q<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
      )
    ).map((r) => r.table_name);
  return {
    tablesWithColumn: async (column) =>
      (
        await q<{ table_name: string }>(
          `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()
           AND column_name = $1 ORDER BY table_name`,
          [column],
        )
      ).map((r) => r.table_name),
    countIn: async (table, column, values) =>
      Number(
        (
          await q<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ANY($1::text[])`, [
            values,
          ])
        )[0]!.n,
      ),
    rowsContaining: async (text) => {
      const out: { table: string; rows: number }[] = [];
      for (const t of await tables()) {
        const n = Number(
          (
            await q<{ n: string }>(`SELECT count(*) AS n FROM ${t} x WHERE strpos(x::text, $1) > 0`, [text])
          )[0]!.n,
        );
        if (n > 0) out.push({ table: t, rows: n });
      }
      return out;
    },
    dialect: 'postgres',
    exec: async (sql) => {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}
