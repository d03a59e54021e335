/** Row shapes of the suppression and device tables, and their conversion, shared by both adapters. */
import type { Device, DeviceKind, Suppression, SuppressionReason } from './contact-store.js';
import { json, num, type Num } from './rows.js';

export interface SuppressionRowDb {
  channel: string;
  address: string;
  reason: string;
  detail: string | null;
  source: string;
  at: Num;
}

export function suppression(r: SuppressionRowDb): Suppression {
  return {
    channel: r.channel,
    address: r.address,
    reason: r.reason as SuppressionReason,
    detail: r.detail,
    source: r.source,
    at: num(r.at),
  };
}

export interface DeviceRowDb {
  token: string;
  profile_id: string;
  kind: string;
  subscription: string | object | null;
  created_at: Num;
  updated_at: Num;
}

export function device(r: DeviceRowDb): Device {
  return {
    token: r.token,
    profileId: r.profile_id,
    kind: r.kind as DeviceKind,
    subscription: r.subscription === null ? null : json<unknown>(r.subscription),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** Devices by profile id. */
export function byProfile(devices: readonly Device[]): Map<string, Device[]> {
  const out = new Map<string, Device[]>();
  for (const d of devices) {
    const list = out.get(d.profileId) ?? [];
    list.push(d);
    out.set(d.profileId, list);
  }
  return out;
}
