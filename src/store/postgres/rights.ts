/**
 * The consent ledger, privacy settings, erasure and export on PostgreSQL. Writes take the caller's
 * transaction; an erasure locks the customer's profile rows first, so it serialises with ingestion
 * of the same customer (which locks them too) and runs after or before it, never between.
 */
import type { IdentityKey } from '../../domain/identity.js';
import type { ConsentEntry } from '../../domain/consent.js';
import { purposeOfChannel, subscriptionEntry } from '../../domain/consent.js';
import type { Subscription } from '../delivery-store.js';
import {
  ANONYMISED,
  exportRow,
  sectionOrder,
  tombstoneHash,
  type ErasureCounts,
  type ErasureOutcome,
  type ErasureRecord,
  type ExportPage,
} from '../rights-store.js';
import type { Sql } from './pg-driver.js';
import { refreshActivity } from './activity.js';

interface ConsentRowDb {
  profile_id: string;
  purpose: string;
  status: 'granted' | 'withdrawn';
  source: string;
  method: string;
  text_version: string | null;
  topic: string | null;
  at: string | number;
}

const consent = (r: ConsentRowDb, profileId: string): ConsentEntry => ({
  profileId,
  purpose: r.purpose,
  status: r.status,
  source: r.source,
  method: r.method,
  textVersion: r.text_version,
  topic: r.topic,
  at: Number(r.at),
});

export async function recordConsents(sql: Sql, ws: string, entries: readonly ConsentEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await sql.query(
    `INSERT INTO consent_events (workspace_id, profile_id, purpose, status, source, method, text_version, topic, at)
     SELECT $1, e.profile_id, e.purpose, e.status, e.source, e.method, e.text_version, e.topic, e.at
     FROM json_to_recordset($2::json) AS e (profile_id text, purpose text, status text, source text, method text,
       text_version text, topic text, at bigint)`,
    [
      ws,
      JSON.stringify(
        entries.map((e) => ({
          profile_id: e.profileId,
          purpose: e.purpose,
          status: e.status,
          source: e.source,
          method: e.method,
          text_version: e.textVersion,
          topic: e.topic,
          at: e.at,
        })),
      ),
    ],
  );
}

/** See the SQLite twin: the ledger entries of subscription changes, one per profile holding the address. */
export async function subscriptionLedger(
  sql: Sql,
  ws: string,
  subs: readonly Subscription[],
): Promise<ConsentEntry[]> {
  const asked = subs.flatMap((s, i) => {
    const purpose = purposeOfChannel(s.channel);
    if (purpose === null || s.status === 'pending') return [];
    const kind = s.channel === 'email' ? 'email' : s.channel === 'sms' ? 'phone' : null;
    return [{ i, kind, address: s.address }];
  });
  if (asked.length === 0) return [];
  const rows = await sql.query<{ i: number; profile_id: string }>(
    `WITH s AS (SELECT * FROM json_to_recordset($2::json) AS s (i int, kind text, address text))
     SELECT DISTINCT s.i, i.profile_id FROM s
       JOIN identities i ON i.workspace_id = $1 AND i.kind = s.kind AND i.value = s.address
     UNION
     SELECT DISTINCT s.i, d.profile_id FROM s
       JOIN devices d ON s.kind IS NULL AND d.workspace_id = $1 AND d.token = s.address
     ORDER BY 1, 2`,
    [ws, JSON.stringify(asked)],
  );
  return rows.map((r) => {
    const s = subs[r.i]!;
    return subscriptionEntry(s, purposeOfChannel(s.channel)!, r.profile_id);
  });
}

const MERGED = `(SELECT $2::text UNION ALL SELECT id FROM profiles WHERE workspace_id = $1 AND merged_into = $2)`;

export async function listConsents(sql: Sql, ws: string, profileId: string): Promise<ConsentEntry[]> {
  const rows = await sql.query<ConsentRowDb>(
    `SELECT * FROM consent_events WHERE workspace_id = $1 AND profile_id IN ${MERGED} ORDER BY at, id`,
    [ws, profileId],
  );
  return rows.map((r) => consent(r, profileId));
}

export async function consentsOf(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
): Promise<Map<string, ConsentEntry[]>> {
  const out = new Map<string, ConsentEntry[]>();
  if (profileIds.length === 0) return out;
  const rows = await sql.query<ConsentRowDb & { asked: string }>(
    `SELECT COALESCE(p.merged_into, c.profile_id) AS asked, c.*
     FROM consent_events c LEFT JOIN profiles p ON p.workspace_id = c.workspace_id AND p.id = c.profile_id
     WHERE c.workspace_id = $1 AND (c.profile_id = ANY($2::text[]) OR p.merged_into = ANY($2::text[]))
     ORDER BY c.at, c.id`,
    [ws, [...new Set(profileIds)]],
  );
  for (const r of rows) {
    const list = out.get(r.asked) ?? [];
    list.push(consent(r, r.asked));
    out.set(r.asked, list);
  }
  return out;
}

export async function profileTables(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND c.column_name = 'profile_id' AND t.table_type = 'BASE TABLE'
     ORDER BY c.table_name`,
  );
  return rows.map((r) => r.table_name);
}

export async function isErased(sql: Sql, ws: string, profileId: string): Promise<boolean> {
  const rows = await sql.query('SELECT 1 FROM tombstones WHERE workspace_id = $1 AND hash = $2', [
    ws,
    tombstoneHash(ws, 'profile', profileId),
  ]);
  return rows.length > 0;
}

export async function eraseProfile(
  sql: Sql,
  ws: string,
  profileId: string,
  opts: { id: string; requestedBy: string; now: number },
): Promise<ErasureOutcome> {
  if (await isErased(sql, ws, profileId)) return { status: 'already_erased' };
  const ids = (
    await sql.query<{ id: string }>(
      `SELECT id FROM profiles WHERE workspace_id = $1 AND (id = $2 OR merged_into = $2) ORDER BY id FOR UPDATE`,
      [ws, profileId],
    )
  ).map((r) => r.id);
  if (!ids.includes(profileId)) return { status: 'not_found' };
  const counts: ErasureCounts = {};
  const run = async (kind: string, text: string, values: unknown[]) => {
    const n = (
      await sql.query<{ n: string }>(`WITH d AS (${text} RETURNING 1) SELECT count(*) AS n FROM d`, values)
    )[0];
    const c = Number(n?.n ?? 0);
    if (c > 0) counts[kind] = (counts[kind] ?? 0) + c;
  };
  const identities = await sql.query<{ kind: string; value: string }>(
    'SELECT kind, value FROM identities WHERE workspace_id = $1 AND profile_id = ANY($2::text[])',
    [ws, ids],
  );
  const tokens = (
    await sql.query<{ token: string }>(
      'SELECT token FROM devices WHERE workspace_id = $1 AND profile_id = ANY($2::text[])',
      [ws, ids],
    )
  ).map((r) => r.token);
  const channels: string[] = [];
  const addresses: string[] = [];
  for (const i of identities) {
    if (i.kind === 'email' || i.kind === 'phone') {
      channels.push(i.kind === 'email' ? 'email' : 'sms');
      addresses.push(i.value);
    }
  }
  for (const t of tokens) {
    channels.push('push', 'web_push');
    addresses.push(t, t);
  }
  await run(
    'message_events',
    `DELETE FROM message_events WHERE workspace_id = $1 AND message_key IN
       (SELECT key FROM journey_messages WHERE workspace_id = $1 AND profile_id = ANY($2::text[]))`,
    [ws, ids],
  );
  await run(
    'journey_steps',
    `DELETE FROM journey_steps WHERE workspace_id = $1 AND entry_id IN
       (SELECT id FROM journey_entries WHERE workspace_id = $1 AND profile_id = ANY($2::text[]))`,
    [ws, ids],
  );
  for (const table of ['subscriptions', 'suppressions'])
    await run(
      table,
      `DELETE FROM ${table} t USING unnest($2::text[], $3::text[]) AS a (channel, address)
       WHERE t.workspace_id = $1 AND t.channel = a.channel AND t.address = a.address`,
      [ws, channels, addresses],
    );
  for (const table of await profileTables(sql)) {
    const anonymise = ANONYMISED[table];
    await run(
      table,
      anonymise
        ? `UPDATE ${table} SET ${anonymise} WHERE workspace_id = $1 AND profile_id = ANY($2::text[])`
        : `DELETE FROM ${table} WHERE workspace_id = $1 AND profile_id = ANY($2::text[])`,
      [ws, ids],
    );
  }
  await run('profiles', 'DELETE FROM profiles WHERE workspace_id = $1 AND id = ANY($2::text[])', [ws, ids]);
  const stones = [
    ...ids.map((id) => ({ hash: tombstoneHash(ws, 'profile', id), kind: 'profile' })),
    ...identities.map((i) => ({ hash: tombstoneHash(ws, i.kind, i.value), kind: i.kind })),
  ];
  await sql.query(
    `INSERT INTO tombstones (workspace_id, hash, kind, erased_at)
     SELECT $1, s.hash, s.kind, $3 FROM json_to_recordset($2::json) AS s (hash text, kind text)
     ON CONFLICT DO NOTHING`,
    [ws, JSON.stringify(stones), opts.now],
  );
  const record: ErasureRecord = { id: opts.id, erasedAt: opts.now, requestedBy: opts.requestedBy, counts };
  await sql.query(
    'INSERT INTO erasures (workspace_id, id, erased_at, requested_by, counts) VALUES ($1, $2, $3, $4, $5)',
    [ws, record.id, record.erasedAt, record.requestedBy, JSON.stringify(counts)],
  );
  return { status: 'erased', record };
}

export async function listErasures(sql: Sql, ws: string, limit: number): Promise<ErasureRecord[]> {
  const rows = await sql.query<{
    id: string;
    erased_at: string;
    requested_by: string;
    counts: ErasureCounts;
  }>('SELECT * FROM erasures WHERE workspace_id = $1 ORDER BY erased_at DESC, id DESC LIMIT $2', [ws, limit]);
  return rows.map((x) => ({
    id: x.id,
    erasedAt: Number(x.erased_at),
    requestedBy: x.requested_by,
    counts: x.counts,
  }));
}

export async function tombstoneHits(sql: Sql, ws: string): Promise<number> {
  const rows = await sql.query<{ n: string | null }>(
    'SELECT SUM(hits) AS n FROM tombstones WHERE workspace_id = $1',
    [ws],
  );
  return Number(rows[0]?.n ?? 0);
}

const splitKey = (key: string) => {
  const sep = key.indexOf(':');
  return [key.slice(0, sep), key.slice(sep + 1)] as const;
};

export async function tombstoned(sql: Sql, ws: string, keys: readonly string[]): Promise<Set<string>> {
  const hashes = keys.map((k) => tombstoneHash(ws, ...splitKey(k)));
  const rows = await sql.query<{ hash: string }>(
    'SELECT hash FROM tombstones WHERE workspace_id = $1 AND hash = ANY($2::text[])',
    [ws, hashes],
  );
  const found = new Set(rows.map((r) => r.hash));
  return new Set(keys.filter((_, i) => found.has(hashes[i]!)));
}

export async function countTombstoneHits(
  sql: Sql,
  ws: string,
  hits: ReadonlyMap<string, number>,
): Promise<void> {
  const keys = [...hits.keys()].sort();
  await sql.query(
    `UPDATE tombstones t SET hits = t.hits + h.n FROM unnest($2::text[], $3::bigint[]) AS h (hash, n)
     WHERE t.workspace_id = $1 AND t.hash = h.hash`,
    [ws, keys.map((k) => tombstoneHash(ws, ...splitKey(k))), keys.map((k) => hits.get(k)!)],
  );
}

export async function liftTombstones(
  sql: Sql,
  ws: string,
  identities: readonly IdentityKey[],
): Promise<IdentityKey[]> {
  const hashes = identities.map((i) => tombstoneHash(ws, i.kind, i.value));
  const rows = await sql.query<{ hash: string }>(
    `DELETE FROM tombstones WHERE workspace_id = $1 AND hash = ANY($2::text[]) AND kind <> 'profile'
     RETURNING hash`,
    [ws, hashes],
  );
  const gone = new Set(rows.map((r) => r.hash));
  return identities.filter((_, i) => gone.has(hashes[i]!));
}

export async function deleteEventsBefore(
  sql: Sql,
  ws: string,
  before: number,
  limit: number,
): Promise<number> {
  const gone = await sql.query<{ profile_id: string; timestamp: number }>(
    `DELETE FROM events WHERE workspace_id = $1 AND id IN
       (SELECT id FROM events WHERE workspace_id = $1 AND timestamp < $2 LIMIT $3)
     RETURNING profile_id, timestamp`,
    [ws, before, limit],
  );
  // The activity rollup forgets the days that no longer have events (in the same transaction).
  await refreshActivity(
    sql,
    ws,
    gone.map((g) => ({ profileId: g.profile_id, at: Number(g.timestamp) })),
  );
  return gone.length;
}

export async function* exportProfile(sql: Sql, ws: string, profileId: string): AsyncGenerator<ExportPage> {
  const ids = (
    await sql.query<{ id: string }>(
      'SELECT id FROM profiles WHERE workspace_id = $1 AND (id = $2 OR merged_into = $2)',
      [ws, profileId],
    )
  ).map((r) => r.id);
  if (ids.length === 0) return;
  const rows = async (text: string) =>
    (await sql.query<Record<string, unknown>>(text, [ws, ids])).map(exportRow);
  yield {
    section: 'profile',
    rows: await rows('SELECT * FROM profiles WHERE workspace_id = $1 AND id = ANY($2::text[])'),
  };
  for (const table of sectionOrder(await profileTables(sql)))
    yield {
      section: table,
      rows: await rows(`SELECT * FROM ${table} WHERE workspace_id = $1 AND profile_id = ANY($2::text[])`),
    };
  for (const table of ['subscriptions', 'suppressions'])
    yield {
      section: table,
      rows: await rows(
        `SELECT t.* FROM ${table} t WHERE t.workspace_id = $1 AND (t.channel, t.address) IN (
           SELECT CASE i.kind WHEN 'email' THEN 'email' ELSE 'sms' END, i.value FROM identities i
           WHERE i.workspace_id = $1 AND i.profile_id = ANY($2::text[]) AND i.kind IN ('email', 'phone')
           UNION ALL SELECT c.channel, d.token FROM devices d CROSS JOIN (VALUES ('push'), ('web_push')) AS c (channel)
           WHERE d.workspace_id = $1 AND d.profile_id = ANY($2::text[]))`,
      ),
    };
  yield {
    section: 'message_events',
    rows: await rows(
      `SELECT * FROM message_events WHERE workspace_id = $1 AND message_key IN
         (SELECT key FROM journey_messages WHERE workspace_id = $1 AND profile_id = ANY($2::text[])) ORDER BY at`,
    ),
  };
  yield {
    section: 'journey_steps',
    rows: await rows(
      `SELECT * FROM journey_steps WHERE workspace_id = $1 AND entry_id IN
         (SELECT id FROM journey_entries WHERE workspace_id = $1 AND profile_id = ANY($2::text[])) ORDER BY id`,
    ),
  };
  let after = '-1';
  for (;;) {
    const page = await sql.query<Record<string, unknown>>(
      `SELECT * FROM events WHERE workspace_id = $1 AND profile_id = ANY($2::text[]) AND id > $3 ORDER BY id LIMIT 1000`,
      [ws, ids, after],
    );
    if (page.length === 0) break;
    after = String(page[page.length - 1]!['id']);
    yield { section: 'events', rows: page.map(exportRow) };
    if (page.length < 1000) break;
  }
}
