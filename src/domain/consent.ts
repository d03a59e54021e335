/**
 * The consent ledger's rules (docs/privacy.md#consent). Consent is recorded per purpose as an
 * append-only history; the current state of a purpose is its newest whole-purpose entry (entries with
 * a topic are subscription changes of one topic, kept as history: the topic's own state is the
 * subscription's). No entry means "not asked": sends then follow the subscription rules alone, and
 * profiling is refused only where the workspace requires profiling consent.
 */
import type { RuleIssue } from './rules/schema-values.js';
import { TRANSACTIONAL } from './subscriptions.js';

export const BASE_PURPOSES = ['email_marketing', 'push', 'sms', 'profiling', 'sharing'] as const;
export const CONSENT_SOURCES = [
  'sdk',
  'api',
  'preference_centre',
  'import',
  'staff',
  'subscription',
] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];
export const CONSENT_METHODS = [
  'checkbox',
  'double_opt_in',
  'verbal',
  'written',
  'banner',
  'one_click',
  'subscription',
  'other',
] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];
export type ConsentStatus = 'granted' | 'withdrawn';

/** What a purpose's name may be (workspaces add their own). */
export const PURPOSE_NAME = /^[a-z][a-z0-9_]{0,39}$/;
export const PURPOSE_RULE = 'must be 1–40 lower-case letters, digits or _, starting with a letter';

export interface ConsentEntry {
  readonly profileId: string;
  readonly purpose: string;
  readonly status: ConsentStatus;
  readonly source: string;
  readonly method: string;
  /** the version of the wording the customer saw (`2026-11 banner v3`) */
  readonly textVersion: string | null;
  /** set for a subscription change of one topic (history only) */
  readonly topic: string | null;
  readonly at: number;
}

/** The current state of each purpose: the newest whole-purpose entry (the later-listed on a tie). */
export function currentConsents(entries: readonly ConsentEntry[]): Map<string, ConsentEntry> {
  const out = new Map<string, ConsentEntry>();
  for (const e of entries) {
    if (e.topic !== null) continue;
    const seen = out.get(e.purpose);
    if (!seen || e.at >= seen.at) out.set(e.purpose, e);
  }
  return out;
}

/** The purpose a marketing message on a channel needs; null for channels no purpose governs. */
export function purposeOfChannel(channel: string): string | null {
  if (channel === 'email') return 'email_marketing';
  if (channel === 'push' || channel === 'web_push') return 'push';
  if (channel === 'sms') return 'sms';
  return null;
}

/**
 * Purposes whose state is the subscriptions of the customer's addresses: their ledger entries are
 * the history, and the subscription rules (topics, `*`, opt-in topics, newest wins) decide sends.
 */
export const SUBSCRIPTION_PURPOSES: readonly string[] = ['email_marketing', 'sms'];

/**
 * Why a message may not be sent given the customer's ledger; null when it may. Only a withdrawal
 * stops a send (transactional messages never ask), and only for purposes the subscriptions do not
 * already decide: entries that merely record a subscription change (method `subscription`) are left
 * to the subscription rules too, so one opt-in never has two answers.
 */
export function consentReason(
  channel: string,
  topic: string,
  ledger: readonly ConsentEntry[],
): string | null {
  if (topic === TRANSACTIONAL) return null;
  const purpose = purposeOfChannel(channel);
  if (purpose === null || SUBSCRIPTION_PURPOSES.includes(purpose)) return null;
  const c = currentConsents(ledger.filter((e) => e.method !== 'subscription')).get(purpose);
  if (!c || c.status !== 'withdrawn') return null;
  return `consent withdrawn: ${c.purpose} (${c.source}, ${new Date(c.at).toISOString()})`;
}

export interface PrivacySettings {
  /** raw events older than this many months are deleted by the sweeper; null keeps them */
  readonly retentionMonths: number | null;
  /** purposes this workspace adds to the base ones */
  readonly purposes: readonly string[];
  /**
   * When true, a customer without a granted `profiling` consent gets no personalised in-app content
   * and is left out of segments marked as profiling (docs/privacy.md#profiling).
   */
  readonly profilingRequired: boolean;
  /** audit-log entries older than this many days are deleted by the sweeper (docs/access.md) */
  readonly auditRetentionDays: number;
}

/** The default audit-log retention: a little over a year, so a yearly review still finds last year. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;

/** How long a transparency link works (docs/privacy.md#transparency-page). */
export const TRANSPARENCY_TTL_MS = 30 * 24 * 60 * 60_000;

export const DEFAULT_PRIVACY: PrivacySettings = {
  retentionMonths: null,
  purposes: [],
  profilingRequired: false,
  auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS,
};

export const purposesOf = (s: PrivacySettings): string[] => [...BASE_PURPOSES, ...s.purposes];

/** Whether profiling may be applied to a customer, given the workspace's rule. */
export function profilingAllowed(s: PrivacySettings, current: ReadonlyMap<string, ConsentEntry>): boolean {
  if (!s.profilingRequired) return current.get('profiling')?.status !== 'withdrawn';
  return current.get('profiling')?.status === 'granted';
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates privacy settings as the API receives them (snake_case JSON). */
export function parsePrivacySettings(
  input: unknown,
): { ok: true; settings: PrivacySettings } | { ok: false; issues: RuleIssue[] } {
  if (!isObject(input)) return { ok: false, issues: [{ field: 'body', rule: 'must be a JSON object' }] };
  const issues: RuleIssue[] = [];
  for (const k of Object.keys(input)) {
    if (!['retention_months', 'purposes', 'profiling_required', 'audit_retention_days'].includes(k))
      issues.push({ field: k, rule: 'is not a privacy setting' });
  }
  const months = input['retention_months'] ?? null;
  if (
    months !== null &&
    (typeof months !== 'number' || !Number.isInteger(months) || months < 1 || months > 240)
  )
    issues.push({
      field: 'retention_months',
      rule: 'must be a whole number of months, 1–240, or null to keep events',
    });
  const purposes = input['purposes'] ?? [];
  if (!Array.isArray(purposes) || purposes.length > 20)
    issues.push({ field: 'purposes', rule: 'must be a list of at most 20 purposes' });
  else
    purposes.forEach((p: unknown, i) => {
      if (typeof p !== 'string' || !PURPOSE_NAME.test(p))
        issues.push({ field: `purposes[${i}]`, rule: PURPOSE_RULE });
      else if ((BASE_PURPOSES as readonly string[]).includes(p) || purposes.indexOf(p) !== i)
        issues.push({ field: `purposes[${i}]`, rule: 'must not repeat a purpose' });
    });
  const profiling = input['profiling_required'] ?? false;
  if (typeof profiling !== 'boolean')
    issues.push({ field: 'profiling_required', rule: 'must be true or false' });
  const auditDays = input['audit_retention_days'] ?? DEFAULT_AUDIT_RETENTION_DAYS;
  if (typeof auditDays !== 'number' || !Number.isInteger(auditDays) || auditDays < 30 || auditDays > 3650)
    issues.push({ field: 'audit_retention_days', rule: 'must be a whole number of days, 30–3650' });
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    settings: {
      retentionMonths: months as number | null,
      purposes: purposes as string[],
      profilingRequired: profiling as boolean,
      auditRetentionDays: auditDays as number,
    },
  };
}

export const privacySettingsJson = (s: PrivacySettings) => ({
  retention_months: s.retentionMonths,
  purposes: s.purposes,
  profiling_required: s.profilingRequired,
  audit_retention_days: s.auditRetentionDays,
});

/** The instant before which a workspace's raw events are deleted: `months` calendar months ago (UTC). */
export function retentionCutoff(now: number, months: number): number {
  const d = new Date(now);
  const target = d.getUTCFullYear() * 12 + d.getUTCMonth() - months;
  const [year, month] = [Math.floor(target / 12), target % 12];
  // The same day of that month, or its last day (31 March less one month is 28 February).
  const day = Math.min(d.getUTCDate(), new Date(Date.UTC(year, month + 1, 0)).getUTCDate());
  return Date.UTC(
    year,
    month,
    day,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

/** The ledger entry a subscription change of one of the profile's addresses stands for. */
export function subscriptionEntry(
  s: {
    readonly status: 'subscribed' | 'unsubscribed' | 'pending';
    readonly source: string;
    readonly topic: string;
    readonly at: number;
    readonly consent?: { readonly method?: string; readonly textVersion?: string | null } | undefined;
  },
  purpose: string,
  profileId: string,
): ConsentEntry {
  return {
    profileId,
    purpose,
    status: s.status === 'subscribed' ? 'granted' : 'withdrawn',
    source: s.source,
    method: s.consent?.method ?? 'subscription',
    textVersion: s.consent?.textVersion ?? null,
    topic: s.topic === '*' ? null : s.topic,
    at: s.at,
  };
}
