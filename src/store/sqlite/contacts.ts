/**
 * Suppressions, devices and after-send states on SQLite: writes on the writer connection inside its
 * transaction, reads on the reader connection.
 */
import type { AfterSendState, Device, Suppression } from '../contact-store.js';
import { byProfile, device, suppression, type DeviceRowDb, type SuppressionRowDb } from '../contact-rows.js';
import { statusAfter } from '../../domain/delivery.js';
import type { Prepare } from './statements.js';

export function putSuppression(prep: Prepare, ws: string, s: Suppression): void {
  prep(
    `INSERT INTO suppressions (workspace_id, channel, address, reason, detail, source, at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, channel, address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
       source = excluded.source, at = excluded.at`,
  ).run(ws, s.channel, s.address, s.reason, s.detail, s.source, s.at);
}

export function deleteSuppression(prep: Prepare, ws: string, channel: string, address: string): boolean {
  return (
    prep('DELETE FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?').run(
      ws,
      channel,
      address,
    ).changes > 0
  );
}

export function findSuppressions(
  r: Prepare,
  ws: string,
  channel: string,
  addresses: readonly string[],
): Suppression[] {
  const q = r('SELECT * FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?');
  const out: Suppression[] = [];
  for (const a of new Set(addresses)) {
    const row = q.get(ws, channel, a) as SuppressionRowDb | undefined;
    if (row) out.push(suppression(row));
  }
  return out;
}

export function listSuppressions(
  r: Prepare,
  ws: string,
  q: { channel: string | null; after: { channel: string; address: string } | null; limit: number },
): Suppression[] {
  const after = q.after ?? { channel: '', address: '' };
  const rows = r(
    `SELECT * FROM suppressions WHERE workspace_id = ? AND (? IS NULL OR channel = ?)
       AND (channel, address) > (?, ?)
     ORDER BY channel, address LIMIT ?`,
  ).all(ws, q.channel, q.channel, after.channel, after.address, q.limit) as SuppressionRowDb[];
  return rows.map(suppression);
}

export function putDevices(prep: Prepare, ws: string, devices: readonly Device[]): void {
  const put = prep(
    `INSERT INTO devices (workspace_id, token, profile_id, kind, subscription, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, token) DO UPDATE SET profile_id = excluded.profile_id, kind = excluded.kind,
       subscription = excluded.subscription, updated_at = excluded.updated_at
     WHERE excluded.updated_at >= devices.updated_at`,
  );
  for (const d of devices) {
    put.run(
      ws,
      d.token,
      d.profileId,
      d.kind,
      d.subscription === null ? null : JSON.stringify(d.subscription),
      d.createdAt,
      d.updatedAt,
    );
  }
}

export function listDevices(r: Prepare, ws: string, profileIds: readonly string[]): Map<string, Device[]> {
  const q = r(
    'SELECT * FROM devices WHERE workspace_id = ? AND profile_id = ? ORDER BY updated_at DESC, token',
  );
  const all: Device[] = [];
  for (const id of new Set(profileIds)) all.push(...(q.all(ws, id) as DeviceRowDb[]).map(device));
  return byProfile(all);
}

export function deleteDevice(prep: Prepare, ws: string, token: string): boolean {
  return prep('DELETE FROM devices WHERE workspace_id = ? AND token = ?').run(ws, token).changes > 0;
}

/** A merge moves the merged-away profile's devices to the survivor. */
export function mergeDevices(prep: Prepare, ws: string, from: string, into: string): void {
  prep(
    'UPDATE devices INDEXED BY devices_by_profile SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?',
  ).run(into, ws, from);
}

export function recordAfterSend(prep: Prepare, states: readonly AfterSendState[], now: number): number {
  const message = prep('SELECT status, attempts FROM journey_messages WHERE workspace_id = ? AND key = ?');
  const seen = prep(
    `SELECT 1 FROM message_events INDEXED BY message_events_by_message
     WHERE workspace_id = ? AND message_key = ? AND status = ? AND detail IS ?`,
  );
  const log = prep(
    'INSERT INTO message_events (workspace_id, message_key, at, status, attempt, detail) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const move = prep(
    'UPDATE journey_messages SET status = ?, updated_at = ? WHERE workspace_id = ? AND key = ?',
  );
  let recorded = 0;
  for (const s of states) {
    const m = message.get(s.workspaceId, s.key) as { status: string; attempts: number } | undefined;
    if (!m || !['sent', 'delivered', 'opened', 'clicked', 'bounced'].includes(m.status)) continue;
    if (seen.get(s.workspaceId, s.key, s.status, s.detail)) continue;
    log.run(s.workspaceId, s.key, s.at, s.status, m.attempts, s.detail);
    const next = statusAfter(m.status, s.status);
    if (next !== null) move.run(next, now, s.workspaceId, s.key);
    recorded++;
  }
  return recorded;
}
