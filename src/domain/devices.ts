/**
 * Push devices reported by the Segment calls themselves (docs/channels.md): a mobile SDK puts the
 * device's push token in `context.device.token` and its platform in `context.device.type` (or
 * `context.os.name`). Every call carrying one records the device for the call's profile.
 */
import type { NormalizedEvent } from './event.js';

export type MobileKind = 'ios' | 'android';

/** Tokens are opaque, but bounded and printable: anything else is not a token and is ignored. */
const TOKEN = /^[\x21-\x7e]{8,4096}$/;
/** An APNs device token: hex, 64 digits today (Apple says it may grow). */
const APNS = /^[0-9a-fA-F]{64,200}$/;

function platform(v: unknown): MobileKind | null {
  if (typeof v !== 'string') return null;
  const p = v.trim().toLowerCase();
  if (p === 'ios' || p === 'ipados' || p === 'iphone os' || p === 'tvos') return 'ios';
  if (p === 'android') return 'android';
  return null;
}

/** The push device an event reports, if any. */
export function deviceOf(e: NormalizedEvent): { token: string; kind: MobileKind } | null {
  const device = e.context['device'];
  if (typeof device !== 'object' || device === null || Array.isArray(device)) return null;
  const d = device as Record<string, unknown>;
  const token = d['token'];
  if (typeof token !== 'string' || !TOKEN.test(token)) return null;
  const os = e.context['os'];
  const osName = typeof os === 'object' && os !== null ? (os as Record<string, unknown>)['name'] : null;
  const kind = platform(d['type']) ?? platform(osName) ?? (APNS.test(token) ? 'ios' : 'android');
  return { token, kind };
}
