/**
 * The consent ledger, privacy settings, erasure and export on SQLite. Writes run inside the writer's
 * transaction; reads on the reader connection.
 */
import type { ConsentEntry } from '../../domain/consent.js';
import { purposeOfChannel, subscriptionEntry } from '../../domain/consent.js';
import type { IdentityKey } from '../../domain/identity.js';
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
import type { Prepare } from './statements.js';
import { refreshActivity } from './activity.js';

const MERGED = '(SELECT ? UNION ALL SELECT id FROM profiles WHERE workspace_id = ? AND merged_into = ?)';

interface ConsentRowDb {
  profile_id: string;
  purpose: string;
  status: 'granted' | 'withdrawn';
  source: string;
  method: string;
  text_version: string | null;
  topic: string | null;
  at: number;
}

const consent = (r: ConsentRowDb, profileId = r.profile_id): ConsentEntry => ({
  profileId,
  purpose: r.purpose,
  status: r.status,
  source: r.source,
  method: r.method,
  textVersion: r.text_version,
  topic: r.topic,
  at: r.at,
});

export function recordConsents(prep: Prepare, ws: string, entries: readonly ConsentEntry[]): void {
  const put = prep(
    `INSERT INTO consent_events (workspace_id, profile_id, purpose, status, source, method, text_version, topic, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const e of entries)
    put.run(ws, e.profileId, e.purpose, e.status, e.source, e.method, e.textVersion, e.topic, e.at);
}

/**
 * The ledger side of subscription changes: each change of a contact point becomes an entry for every
 * profile holding it (an e-mail or phone identity, a device token), whole-purpose for topic `*` and a
 * topic entry otherwise. Pending double opt-ins are not consent and give none. The caller records them
 * (with the facts and re-evaluation whole-purpose entries need) in the subscription's transaction.
 */
export function subscriptionLedger(prep: Prepare, ws: string, subs: readonly Subscription[]): ConsentEntry[] {
  const byIdentity = prep(
    'SELECT DISTINCT profile_id FROM identities WHERE workspace_id = ? AND kind = ? AND value = ?',
  ).pluck();
  const byDevice = prep(
    'SELECT DISTINCT profile_id FROM devices WHERE workspace_id = ? AND token = ?',
  ).pluck();
  const out: ConsentEntry[] = [];
  for (const s of subs) {
    const purpose = purposeOfChannel(s.channel);
    if (purpose === null || s.status === 'pending') continue;
    const holders = (
      s.channel === 'email' || s.channel === 'sms'
        ? byIdentity.all(ws, s.channel === 'email' ? 'email' : 'phone', s.address)
        : byDevice.all(ws, s.address)
    ) as string[];
    for (const profileId of holders) out.push(subscriptionEntry(s, purpose, profileId));
  }
  return out;
}

export function listConsents(r: Prepare, ws: string, profileId: string): ConsentEntry[] {
  const rows = r(
    `SELECT * FROM consent_events WHERE workspace_id = ? AND profile_id IN ${MERGED} ORDER BY at, id`,
  ).all(ws, profileId, ws, profileId) as ConsentRowDb[];
  return rows.map((row) => consent(row, profileId));
}

export function consentsOf(
  r: Prepare,
  ws: string,
  profileIds: readonly string[],
): Map<string, ConsentEntry[]> {
  const out = new Map<string, ConsentEntry[]>();
  for (const id of new Set(profileIds)) {
    const list = listConsents(r, ws, id);
    if (list.length > 0) out.set(id, list);
  }
  return out;
}

/**
 * For tables keyed by something before the profile, a condition that lets the lookup by profile seek
 * that key: `segment_members` is keyed by segment and has no index by profile (migration 0034), so a
 * customer's rows are found under each segment (a few dozen seeks) instead of by reading every
 * membership of the workspace.
 */
const BY_KEY: Readonly<Record<string, string>> = {
  segment_members: ' AND segment_id IN (SELECT id FROM segments)',
};

/**
 * For an erasure, whose rows also include the customer's rows of deleted segments not purged yet
 * (segment-purge.ts): no longer memberships, so no export shows them, but still the customer's. One
 * statement each: a compound subquery would lose the seek by segment.
 */
const ERASE_BY_KEY: Readonly<Record<string, readonly string[]>> = {
  segment_members: [BY_KEY.segment_members!, ' AND segment_id IN (SELECT segment_id FROM segment_purges)'],
};

/** Every table with a `profile_id` column, from the schema itself. */
export function profileTables(r: Prepare): string[] {
  return r(
    `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
     WHERE m.type = 'table' AND c.name = 'profile_id' ORDER BY m.name`,
  )
    .pluck()
    .all() as string[];
}

/** The (channel, address) pairs of the customer's e-mail addresses, phone numbers and device tokens. */
function contactPoints(r: Prepare, ws: string, ids: readonly string[]): [string, string][] {
  const inIds = `workspace_id = ? AND profile_id IN (${ids.map(() => '?').join(', ')})`;
  const identities = r(
    `SELECT kind, value FROM identities WHERE ${inIds} AND kind IN ('email', 'phone')`,
  ).all(ws, ...ids) as { kind: string; value: string }[];
  const tokens = r(`SELECT token FROM devices WHERE ${inIds}`)
    .pluck()
    .all(ws, ...ids) as string[];
  return [
    ...identities.map((i): [string, string] => [i.kind === 'email' ? 'email' : 'sms', i.value]),
    ...tokens.flatMap((t): [string, string][] => [
      ['push', t],
      ['web_push', t],
    ]),
  ];
}

export function isErased(r: Prepare, ws: string, profileId: string): boolean {
  return (
    r('SELECT 1 FROM tombstones WHERE workspace_id = ? AND hash = ?').get(
      ws,
      tombstoneHash(ws, 'profile', profileId),
    ) !== undefined
  );
}

export function eraseProfile(
  prep: Prepare,
  ws: string,
  profileId: string,
  opts: { id: string; requestedBy: string; now: number },
): ErasureOutcome {
  if (isErased(prep, ws, profileId)) return { status: 'already_erased' };
  const exists = prep('SELECT 1 FROM profiles WHERE workspace_id = ? AND id = ? AND merged_into IS NULL').get(
    ws,
    profileId,
  );
  if (!exists) return { status: 'not_found' };
  const ids = prep(`SELECT id FROM profiles WHERE workspace_id = ? AND id IN ${MERGED}`)
    .pluck()
    .all(ws, profileId, ws, profileId) as string[];
  const marks = ids.map(() => '?').join(', ');
  const inIds = `workspace_id = ? AND profile_id IN (${marks})`;
  const identities = prep(`SELECT kind, value FROM identities WHERE ${inIds}`).all(ws, ...ids) as {
    kind: string;
    value: string;
  }[];
  const tokens = prep(`SELECT token FROM devices WHERE ${inIds}`)
    .pluck()
    .all(ws, ...ids) as string[];
  const addresses: [string, string][] = [
    ...identities.flatMap((i): [string, string][] =>
      i.kind === 'email' ? [['email', i.value]] : i.kind === 'phone' ? [['sms', i.value]] : [],
    ),
    ...tokens.flatMap((t): [string, string][] => [
      ['push', t],
      ['web_push', t],
    ]),
  ];
  const counts: ErasureCounts = {};
  const add = (kind: string, n: number) => {
    if (n > 0) counts[kind] = (counts[kind] ?? 0) + n;
  };
  // Rows reached through the customer's rows go first, while those rows still name them.
  add(
    'message_events',
    prep(
      `DELETE FROM message_events WHERE workspace_id = ? AND message_key IN (SELECT key FROM journey_messages WHERE ${inIds})`,
    ).run(ws, ws, ...ids).changes,
  );
  add(
    'journey_steps',
    prep(
      `DELETE FROM journey_steps WHERE workspace_id = ? AND entry_id IN (SELECT id FROM journey_entries WHERE ${inIds})`,
    ).run(ws, ws, ...ids).changes,
  );
  for (const [channel, address] of addresses) {
    for (const table of ['subscriptions', 'suppressions'])
      add(
        table,
        prep(`DELETE FROM ${table} WHERE workspace_id = ? AND channel = ? AND address = ?`).run(
          ws,
          channel,
          address,
        ).changes,
      );
  }
  for (const table of profileTables(prep)) {
    const anonymise = ANONYMISED[table];
    const statements = anonymise
      ? [`UPDATE ${table} SET ${anonymise} WHERE ${inIds}`]
      : (ERASE_BY_KEY[table] ?? ['']).map((key) => `DELETE FROM ${table} WHERE ${inIds}${key}`);
    for (const sql of statements) add(table, prep(sql).run(ws, ...ids).changes);
  }
  add(
    'profiles',
    prep(`DELETE FROM profiles WHERE workspace_id = ? AND id IN (${marks})`).run(ws, ...ids).changes,
  );
  const stone = prep(
    'INSERT OR IGNORE INTO tombstones (workspace_id, hash, kind, erased_at) VALUES (?, ?, ?, ?)',
  );
  for (const id of ids) stone.run(ws, tombstoneHash(ws, 'profile', id), 'profile', opts.now);
  for (const i of identities) stone.run(ws, tombstoneHash(ws, i.kind, i.value), i.kind, opts.now);
  const record: ErasureRecord = { id: opts.id, erasedAt: opts.now, requestedBy: opts.requestedBy, counts };
  prep('INSERT INTO erasures (workspace_id, id, erased_at, requested_by, counts) VALUES (?, ?, ?, ?, ?)').run(
    ws,
    record.id,
    record.erasedAt,
    record.requestedBy,
    JSON.stringify(counts),
  );
  return { status: 'erased', record };
}

export function listErasures(r: Prepare, ws: string, limit: number): ErasureRecord[] {
  const rows = r(
    'SELECT * FROM erasures WHERE workspace_id = ? ORDER BY erased_at DESC, id DESC LIMIT ?',
  ).all(ws, limit) as { id: string; erased_at: number; requested_by: string; counts: string }[];
  return rows.map((x) => ({
    id: x.id,
    erasedAt: x.erased_at,
    requestedBy: x.requested_by,
    counts: JSON.parse(x.counts) as ErasureCounts,
  }));
}

export function tombstoneHits(r: Prepare, ws: string): number {
  return Number(r('SELECT COALESCE(SUM(hits), 0) FROM tombstones WHERE workspace_id = ?').pluck().get(ws));
}

/**
 * The subset of identity keys (`kind:value`) that are tombstoned, counting one hit on each of them
 * per dropped event (`hits` maps key → events dropped). Runs inside the ingest transaction.
 */
export function tombstoned(prep: Prepare, ws: string, keys: readonly string[]): Set<string> {
  const q = prep('SELECT 1 FROM tombstones WHERE workspace_id = ? AND hash = ?');
  const out = new Set<string>();
  for (const key of keys) {
    const sep = key.indexOf(':');
    if (q.get(ws, tombstoneHash(ws, key.slice(0, sep), key.slice(sep + 1))) !== undefined) out.add(key);
  }
  return out;
}

export function countTombstoneHits(prep: Prepare, ws: string, hits: ReadonlyMap<string, number>): void {
  const bump = prep('UPDATE tombstones SET hits = hits + ? WHERE workspace_id = ? AND hash = ?');
  for (const [key, n] of hits) {
    const sep = key.indexOf(':');
    bump.run(n, ws, tombstoneHash(ws, key.slice(0, sep), key.slice(sep + 1)));
  }
}

export function liftTombstones(prep: Prepare, ws: string, identities: readonly IdentityKey[]): IdentityKey[] {
  const del = prep("DELETE FROM tombstones WHERE workspace_id = ? AND hash = ? AND kind <> 'profile'");
  return identities.filter((i) => del.run(ws, tombstoneHash(ws, i.kind, i.value)).changes > 0);
}

export function deleteEventsBefore(prep: Prepare, ws: string, before: number, limit: number): number {
  const gone = prep(
    `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE workspace_id = ? AND timestamp < ? LIMIT ?)
     RETURNING profile_id AS profileId, timestamp AS at`,
  ).all(ws, before, limit) as { profileId: string; at: number }[];
  // The activity rollup forgets the days that no longer have events (in the same transaction).
  refreshActivity(prep, ws, gone);
  return gone.length;
}

/** Pages of one customer's data; see RightsStore.exportProfile. */
export function* exportProfile(r: Prepare, ws: string, profileId: string): Generator<ExportPage> {
  const ids = r(`SELECT id FROM profiles WHERE workspace_id = ? AND id IN ${MERGED}`)
    .pluck()
    .all(ws, profileId, ws, profileId) as string[];
  if (ids.length === 0) return;
  const marks = ids.map(() => '?').join(', ');
  const inIds = `workspace_id = ? AND profile_id IN (${marks})`;
  const rows = (sql: string, ...args: unknown[]) =>
    (r(sql).all(...args) as Record<string, unknown>[]).map(exportRow);
  yield {
    section: 'profile',
    rows: rows(`SELECT * FROM profiles WHERE workspace_id = ? AND id IN (${marks})`, ws, ...ids),
  };
  for (const table of sectionOrder(profileTables(r)))
    yield {
      section: table,
      rows: rows(`SELECT * FROM ${table} WHERE ${inIds}${BY_KEY[table] ?? ''}`, ws, ...ids),
    };
  const contacts = contactPoints(r, ws, ids);
  for (const table of ['subscriptions', 'suppressions'])
    yield {
      section: table,
      rows: contacts.flatMap(([channel, address]) =>
        rows(
          `SELECT * FROM ${table} WHERE workspace_id = ? AND channel = ? AND address = ?`,
          ws,
          channel,
          address,
        ),
      ),
    };
  yield {
    section: 'message_events',
    rows: rows(
      `SELECT * FROM message_events WHERE workspace_id = ? AND message_key IN (SELECT key FROM journey_messages WHERE ${inIds}) ORDER BY at`,
      ws,
      ws,
      ...ids,
    ),
  };
  yield {
    section: 'journey_steps',
    rows: rows(
      `SELECT * FROM journey_steps WHERE workspace_id = ? AND entry_id IN (SELECT id FROM journey_entries WHERE ${inIds}) ORDER BY id`,
      ws,
      ws,
      ...ids,
    ),
  };
  let after = -1;
  for (;;) {
    const page = r(`SELECT * FROM events WHERE ${inIds} AND id > ? ORDER BY id LIMIT 1000`).all(
      ws,
      ...ids,
      after,
    ) as Record<string, unknown>[];
    if (page.length === 0) break;
    after = Number(page[page.length - 1]!['id']);
    yield { section: 'events', rows: page.map(exportRow) };
    if (page.length < 1000) break;
  }
}
