/**
 * Suppressions, devices and after-send states on PostgreSQL. Recording an after-send state locks its
 * message row first, so two reports of the same open racing each other record it once.
 */
import type { AfterSendState, Device, Suppression } from '../contact-store.js';
import { byProfile, device, suppression, type DeviceRowDb, type SuppressionRowDb } from '../contact-rows.js';
import { statusAfter } from '../../domain/delivery.js';
import { cmp } from './journeys.js';
import type { Sql } from './pg-driver.js';

export async function putSuppression(sql: Sql, ws: string, s: Suppression): Promise<void> {
  await sql.query(
    `INSERT INTO suppressions (workspace_id, channel, address, reason, detail, source, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (workspace_id, channel, address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
       source = excluded.source, at = excluded.at`,
    [ws, s.channel, s.address, s.reason, s.detail, s.source, s.at],
  );
}

export async function deleteSuppression(
  sql: Sql,
  ws: string,
  channel: string,
  address: string,
): Promise<boolean> {
  const rows = await sql.query(
    'DELETE FROM suppressions WHERE workspace_id = $1 AND channel = $2 AND address = $3 RETURNING 1',
    [ws, channel, address],
  );
  return rows.length > 0;
}

export async function findSuppressions(
  sql: Sql,
  ws: string,
  channel: string,
  addresses: readonly string[],
): Promise<Suppression[]> {
  if (addresses.length === 0) return [];
  const rows = await sql.query<SuppressionRowDb>(
    'SELECT * FROM suppressions WHERE workspace_id = $1 AND channel = $2 AND address = ANY($3::text[])',
    [ws, channel, [...new Set(addresses)]],
  );
  return rows.map(suppression);
}

export async function listSuppressions(
  sql: Sql,
  ws: string,
  q: { channel: string | null; after: { channel: string; address: string } | null; limit: number },
): Promise<Suppression[]> {
  const after = q.after ?? { channel: '', address: '' };
  const rows = await sql.query<SuppressionRowDb>(
    `SELECT * FROM suppressions WHERE workspace_id = $1 AND ($2::text IS NULL OR channel = $2)
       AND (channel, address) > ($3, $4)
     ORDER BY channel, address LIMIT $5`,
    [ws, q.channel, after.channel, after.address, q.limit],
  );
  return rows.map(suppression);
}

export async function putDevices(sql: Sql, ws: string, devices: readonly Device[]): Promise<void> {
  if (devices.length === 0) return;
  // One row per token (the last report wins), in token order so concurrent writers lock alike.
  const last = new Map(devices.map((d) => [d.token, d]));
  const sorted = [...last.values()].sort((a, b) => cmp(a.token, b.token));
  await sql.query(
    `INSERT INTO devices (workspace_id, token, profile_id, kind, subscription, created_at, updated_at)
     SELECT $1, d.token, d.profile_id, d.kind, d.subscription, d.created_at, d.updated_at
     FROM json_to_recordset($2::json) AS d (token text, profile_id text, kind text, subscription jsonb,
       created_at bigint, updated_at bigint)
     ON CONFLICT (workspace_id, token) DO UPDATE SET profile_id = excluded.profile_id, kind = excluded.kind,
       subscription = excluded.subscription, updated_at = excluded.updated_at
     WHERE excluded.updated_at >= devices.updated_at`,
    [
      ws,
      JSON.stringify(
        sorted.map((d) => ({
          token: d.token,
          profile_id: d.profileId,
          kind: d.kind,
          subscription: d.subscription,
          created_at: d.createdAt,
          updated_at: d.updatedAt,
        })),
      ),
    ],
  );
}

export async function listDevices(
  sql: Sql,
  ws: string,
  profileIds: readonly string[],
): Promise<Map<string, Device[]>> {
  if (profileIds.length === 0) return new Map();
  const rows = await sql.query<DeviceRowDb>(
    `SELECT * FROM devices WHERE workspace_id = $1 AND profile_id = ANY($2::text[])
     ORDER BY profile_id, updated_at DESC, token`,
    [ws, [...new Set(profileIds)]],
  );
  return byProfile(rows.map(device));
}

export async function deleteDevice(sql: Sql, ws: string, token: string): Promise<boolean> {
  const rows = await sql.query('DELETE FROM devices WHERE workspace_id = $1 AND token = $2 RETURNING 1', [
    ws,
    token,
  ]);
  return rows.length > 0;
}

/** A merge moves the merged-away profile's devices to the survivor. */
export async function mergeDevices(
  sql: Sql,
  ws: string,
  merges: readonly { from: string; into: string }[],
): Promise<void> {
  await sql.query(
    `UPDATE devices d SET profile_id = m.into_id
     FROM unnest($2::text[], $3::text[]) AS m (from_id, into_id)
     WHERE d.workspace_id = $1 AND d.profile_id = m.from_id`,
    [ws, merges.map((m) => m.from), merges.map((m) => m.into)],
  );
}

/** Runs inside a transaction: each message row is locked before its events are read and written. */
export async function recordAfterSend(
  sql: Sql,
  states: readonly AfterSendState[],
  now: number,
): Promise<number> {
  const sorted = [...states].sort((a, b) => cmp(a.workspaceId, b.workspaceId) || cmp(a.key, b.key));
  let recorded = 0;
  for (const s of sorted) {
    const [m] = await sql.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM journey_messages WHERE workspace_id = $1 AND key = $2 FOR UPDATE',
      [s.workspaceId, s.key],
    );
    if (!m || !['sent', 'delivered', 'opened', 'clicked', 'bounced'].includes(m.status)) continue;
    const seen = await sql.query(
      `SELECT 1 FROM message_events WHERE workspace_id = $1 AND message_key = $2 AND status = $3
         AND detail IS NOT DISTINCT FROM $4`,
      [s.workspaceId, s.key, s.status, s.detail],
    );
    if (seen.length > 0) continue;
    await sql.query(
      'INSERT INTO message_events (workspace_id, message_key, at, status, attempt, detail) VALUES ($1, $2, $3, $4, $5, $6)',
      [s.workspaceId, s.key, s.at, s.status, m.attempts, s.detail],
    );
    const next = statusAfter(m.status, s.status);
    if (next !== null) {
      await sql.query(
        'UPDATE journey_messages SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND key = $4',
        [next, now, s.workspaceId, s.key],
      );
    }
    recorded++;
  }
  return recorded;
}
