import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openConnection, SqliteWriter } from '../../src/store/sqlite/writer.js';
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
import { accessContract } from './access-contract.js';
import { reportContract } from './report-contract.js';
import { activityContract } from './activity-contract.js';
import { membersContract } from './members-contract.js';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = mkdtempSync(join(tmpdir(), 'kizuna-sqlite-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A file database (not :memory:) so several stores share it as separate processes would.
storeContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

journeyContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

deliveryContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
contactContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
couponContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
preferenceContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
catalogContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
inAppContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

surveyContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

rightsContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
    raw: () => sqliteRaw(path),
  };
});

/** The database file read directly (a reader next to the store's own connections). */
function sqliteRaw(path: string): RawDb {
  const db = new Database(path, { readonly: true });
  const tables = () =>
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  const columns = (t: string) =>
    db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(t) as string[];
  return {
    tablesWithColumn: (column) => Promise.resolve(tables().filter((t) => columns(t).includes(column))),
    countIn: (table, column, values) =>
      Promise.resolve(
        Number(
          db
            .prepare(`SELECT count(*) FROM ${table} WHERE ${column} IN (${values.map(() => '?').join(', ')})`)
            .pluck()
            .get(...values),
        ),
      ),
    rowsContaining: (text) =>
      Promise.resolve(
        tables().flatMap((t) => {
          const all = columns(t)
            .map((c) => `coalesce(CAST("${c}" AS TEXT), '')`)
            .join(" || '|' || ");
          const rows = Number(
            db.prepare(`SELECT count(*) FROM ${t} WHERE instr(${all}, ?) > 0`).pluck().get(text),
          );
          return rows > 0 ? [{ table: t, rows }] : [];
        }),
      ),
    dialect: 'sqlite',
    exec: (sql) => {
      const w = new Database(path);
      try {
        w.pragma('busy_timeout = 10000');
        w.exec(sql);
      } finally {
        w.close();
      }
      return Promise.resolve();
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

accessContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
    raw: (sql) => {
      const db = new Database(path);
      try {
        db.exec(sql);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        db.close();
      }
    },
  };
});

reportContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

activityContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
    query: (sql) => {
      const db = new Database(path);
      try {
        const st = db.prepare(sql);
        return Promise.resolve(st.reader ? (st.all() as Record<string, unknown>[]) : (st.run(), []));
      } finally {
        db.close();
      }
    },
    migrations: ['0027_event_activity.sql', '0031_activity_years.sql'].map((f) =>
      fileURLToPath(new URL(`../../src/store/sqlite/migrations/${f}`, import.meta.url)),
    ),
  };
});

membersContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  const connect = <T>(use: (db: Database.Database) => T): T => {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 10000');
      return use(db);
    } finally {
      db.close();
    }
  };
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
    // An error becomes a rejection, as it is on PostgreSQL.
    query: (sql) =>
      new Promise((resolve) =>
        resolve(
          connect((db) => {
            const st = db.prepare(sql);
            return st.reader ? (st.all() as Record<string, unknown>[]) : (st.run(), []);
          }),
        ),
      ),
    exec: (sql) => new Promise((resolve) => resolve(connect((db) => void db.exec(sql)))),
    dialect: 'sqlite',
    migration: fileURLToPath(
      new URL('../../src/store/sqlite/migrations/0030_segment_members_only.sql', import.meta.url),
    ),
  };
});

describe('sqlite erasure', () => {
  it('leaves none of the customer’s bytes in the database file, free pages included', async () => {
    const path = join(root, `t${++n}.db`);
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const store = SqliteStore.open({ path, clock });
    await store.migrate();
    const ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    const secret = [
      'zq-user-7731',
      'zq.anon.7731',
      'zq7731@example.com',
      'Zq Name 7731',
      'zq-order-7731',
    ] as const;
    await store.ingest(ws, [
      testEvent({
        type: 'identify',
        userId: secret[0],
        anonymousId: secret[1],
        traits: { email: secret[2], name: secret[3] },
        messageId: 'zq-1',
      }),
      ...Array.from({ length: 200 }, (_, i) =>
        testEvent({
          userId: secret[0],
          name: 'Order Completed',
          properties: { order: `${secret[4]}-${i}` },
          messageId: `zq-o${i}`,
        }),
      ),
      testEvent({ userId: 'someone-else', messageId: 'other-1' }),
    ]);
    const p = (await store.lookupProfile(ws, { kind: 'user_id', value: secret[0] }))!;
    expect(
      (await store.eraseProfile(ws, p.id, { id: 'er1', requestedBy: 'api', now: clock.now() })).status,
    ).toBe('erased');
    await store.close();
    const bytes = Buffer.concat(
      [path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
    // (The random profile id itself can survive as a divider key in an index's interior page: it
    // links to nothing any more.)
    for (const s of secret) expect([s, bytes.includes(Buffer.from(s))]).toEqual([s, false]);
    expect(bytes.includes(Buffer.from('someone-else'))).toBe(true);
  });
});

describe('sqlite group commit', () => {
  it('rolls back only the failing call of a group, with the sub-journal in memory', async () => {
    const path = join(root, `t${++n}.db`);
    const writer = new SqliteWriter(openConnection(path));
    await writer.migrate(Date.UTC(2026, 5, 1));
    // Sub-journals stay in memory for ingest; a migration's big sorts go to disk and back.
    expect(writer.db.pragma('temp_store', { simple: true })).toBe(2);
    const ws = { id: 'ws_group', name: 'group', createdAt: Date.UTC(2026, 5, 1) };
    await writer.createWorkspace(ws, { writeKeyHash: 'w', adminKeyHash: 'a' });
    // The third call fails on its last event, after it has written its profiles and 299 events.
    writer.db.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.name = 'Boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    const call = (c: number) =>
      Array.from({ length: 300 }, (_, i) =>
        testEvent({
          userId: `c${c}-u${i}`,
          name: c === 3 && i === 299 ? 'Boom' : 'Product Viewed',
          messageId: `c${c}-m${i}`,
          properties: { sku: `SKU-${i}`, note: 'x'.repeat(200) },
        }),
      );
    const now = Date.UTC(2026, 5, 2);
    // Issued in one turn of the event loop: one transaction, each call in its own savepoint.
    const results = await Promise.allSettled([1, 2, 3, 4].map((c) => writer.ingest(ws.id, call(c), now)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('boom');
    const count = (sql: string, ...args: unknown[]) =>
      (writer.db
        .prepare(sql)
        .pluck()
        .get(...args) as number) ?? 0;
    for (const c of [1, 2, 4]) {
      expect(count('SELECT count(*) FROM events WHERE message_id LIKE ?', `c${c}-m%`)).toBe(300);
      expect(count('SELECT count(*) FROM identities WHERE value LIKE ?', `c${c}-u%`)).toBe(300);
    }
    expect(count('SELECT count(*) FROM events WHERE message_id LIKE ?', 'c3-m%')).toBe(0);
    expect(count('SELECT count(*) FROM identities WHERE value LIKE ?', 'c3-u%')).toBe(0);
    expect(count('SELECT count(*) FROM profiles')).toBe(900);
    expect(
      count('SELECT count(*) FROM event_activity WHERE profile_id NOT IN (SELECT id FROM profiles)'),
    ).toBe(0);
    expect(writer.db.pragma('integrity_check', { simple: true })).toBe('ok');
    await writer.close();
  });

  /** A migrated writer on a new file with workspace `ws`, and a second connection reading that file. */
  async function groupWriter(gatherMs?: number) {
    const path = join(root, `t${++n}.db`);
    const writer = new SqliteWriter(openConnection(path), gatherMs);
    await writer.migrate(Date.UTC(2026, 5, 1));
    await writer.createWorkspace(
      { id: 'ws', name: 'ws', createdAt: Date.UTC(2026, 5, 1) },
      { writeKeyHash: 'w', adminKeyHash: 'a' },
    );
    return { writer, reader: new Database(path, { readonly: true }) };
  }

  it('runs the small calls of a turn as one unit, each answered once its events are committed', async () => {
    const { writer, reader } = await groupWriter();
    const committed = (ids: string[]) =>
      reader
        .prepare(`SELECT count(*) FROM events WHERE message_id IN (${ids.map(() => '?').join(',')})`)
        .pluck()
        .get(...ids);
    const now = Date.UTC(2026, 5, 2);
    const calls = [
      [testEvent({ userId: 'a', messageId: 'm0' })],
      [testEvent({ userId: 'b', messageId: 'm1' })],
      // m1 again: already stored by the call before it in the same unit
      [testEvent({ userId: 'b', messageId: 'm1' }), testEvent({ userId: 'c', messageId: 'm2' })],
      // m3 twice within the call
      [testEvent({ userId: 'd', messageId: 'm3' }), testEvent({ userId: 'd', messageId: 'm3' })],
    ];
    const seenAtAnswer: unknown[] = [];
    const results = await Promise.all(
      calls.map((events, i) =>
        writer.ingest('ws', events, now + i).then((r) => {
          seenAtAnswer.push(committed(events.map((e) => e.messageId)));
          return r;
        }),
      ),
    );
    expect(results.map((r) => [r.stored, r.duplicates])).toEqual([
      [1, 0],
      [1, 0],
      [1, 1],
      [1, 1],
    ]);
    // Each caller, when answered, finds its events in the file through another connection.
    expect(seenAtAnswer).toEqual([1, 1, 2, 1]);
    expect(reader.prepare('SELECT count(*) FROM events').pluck().get()).toBe(4);
    // One unit: the four calls' new profiles were made at one time, the latest call's.
    expect(reader.prepare('SELECT DISTINCT created_at FROM profiles').pluck().all()).toEqual([now + 3]);
    reader.close();
    await writer.close();
  });

  it('retries the calls of a failed unit one by one, so only the failing call fails', async () => {
    const { writer, reader } = await groupWriter();
    writer.db.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.name = 'Boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    // Sees every event row inserted, including those a rolled-back savepoint takes back.
    const inserted: string[] = [];
    writer.db.function('probe', (id: unknown) => {
      inserted.push(String(id));
      return null;
    });
    writer.db.exec('CREATE TRIGGER probe AFTER INSERT ON events BEGIN SELECT probe(NEW.message_id); END');
    const now = Date.UTC(2026, 5, 2);
    const results = await Promise.allSettled(
      [
        testEvent({ userId: 'a', messageId: 'ok1' }),
        testEvent({ userId: 'b', messageId: 'ok2' }),
        testEvent({ userId: 'c', messageId: 'bad', name: 'Boom' }),
        testEvent({ userId: 'a', messageId: 'ok3' }),
      ].map((e) => writer.ingest('ws', [e], now)),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[2] as PromiseRejectedResult).reason)).toContain('boom');
    // Tried together first (rolled back at the failing event), then each alone.
    expect(inserted).toEqual(['ok1', 'ok2', 'ok1', 'ok2', 'ok3']);
    expect(reader.prepare('SELECT message_id FROM events ORDER BY message_id').pluck().all()).toEqual([
      'ok1',
      'ok2',
      'ok3',
    ]);
    expect(reader.prepare("SELECT count(*) FROM identities WHERE value = 'c'").pluck().get()).toBe(0);
    reader.close();
    await writer.close();
  });

  describe('gathering', () => {
    const now = Date.UTC(2026, 5, 2);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let m = 0;
    /** One single-event call; resolves to how long it took to be answered, in ms. */
    const timed = async (writer: SqliteWriter, user: string, at = now) => {
      const started = performance.now();
      await writer.ingest('ws', [testEvent({ userId: user, messageId: `g${++m}` })], at);
      return performance.now() - started;
    };
    /** A group commit of four calls, as a burst of concurrent requests makes. */
    const burst = (writer: SqliteWriter) =>
      Promise.all(['b1', 'b2', 'b3', 'b4'].map((u) => timed(writer, u)));

    it('holds the first call after a burst until as many calls as the burst held are in', async () => {
      const { writer, reader } = await groupWriter(1000);
      await burst(writer);
      const first = timed(writer, 'a', now + 1);
      await sleep(30);
      const rest = ['b', 'c', 'd'].map((u, i) => timed(writer, u, now + 2 + i));
      const waited = await first;
      await Promise.all(rest);
      // Committed in one unit with the three that came 30 ms later: its profile has their time.
      expect(
        reader
          .prepare(
            "SELECT created_at FROM profiles WHERE id IN (SELECT profile_id FROM identities WHERE value = 'a')",
          )
          .pluck()
          .get(),
      ).toBe(now + 4);
      // Ended by the fourth call, not by the bound.
      expect(waited).toBeGreaterThanOrEqual(29);
      expect(waited).toBeLessThan(1000);
      reader.close();
      await writer.close();
    });

    it('commits what it has once the bound has passed', async () => {
      const { writer, reader } = await groupWriter(100);
      await burst(writer);
      const waited = await timed(writer, 'a');
      expect(waited).toBeGreaterThanOrEqual(99);
      expect(reader.prepare("SELECT count(*) FROM identities WHERE value = 'a'").pluck().get()).toBe(1);
      reader.close();
      await writer.close();
    });

    it('never holds a lone caller, nor the first call after a quiet spell', async () => {
      const { writer, reader } = await groupWriter(1000);
      for (let i = 0; i < 5; i++) expect(await timed(writer, `lone${i}`)).toBeLessThan(500);
      await burst(writer);
      await sleep(50);
      expect(await timed(writer, 'after')).toBeLessThan(500);
      reader.close();
      await writer.close();
    });
  });
});
