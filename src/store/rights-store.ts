/**
 * The customer's data rights (docs/privacy.md): the consent ledger, privacy settings, export,
 * erasure with tombstones, and the retention sweep's deletes.
 */
import { createHash } from 'node:crypto';
import type { ConsentEntry } from '../domain/consent.js';
import type { IdentityKey } from '../domain/identity.js';

/** How many rows of each kind an erasure removed or anonymised (table name → rows). */
export type ErasureCounts = Record<string, number>;

export interface ErasureRecord {
  readonly id: string;
  readonly erasedAt: number;
  /** `api` (an admin) or `customer` (the transparency page) */
  readonly requestedBy: string;
  readonly counts: ErasureCounts;
}

export type ErasureOutcome =
  | { readonly status: 'erased'; readonly record: ErasureRecord }
  /** the profile was erased before (its id is tombstoned): nothing to do */
  | { readonly status: 'already_erased' }
  | { readonly status: 'not_found' };

/** One page of one section of a customer's export; a section may come in several pages, in order. */
export interface ExportPage {
  /** the section's name (a table name, `profile` for the profile rows) */
  readonly section: string;
  readonly rows: readonly Record<string, unknown>[];
}

export interface RightsStore {
  /**
   * Appends entries to the consent ledger (never updates or deletes one). Entries of a purpose the
   * profile's facts keep (`profiling`) also update those facts and re-evaluate the profiles' stages
   * and segments in the same transaction, so a withdrawal leaves profiling segments before this
   * resolves. Entries name canonical profiles.
   */
  recordConsents(ws: string, entries: readonly ConsentEntry[]): Promise<void>;
  /** A profile's ledger (through its merged-away ids), oldest first (time, then insertion). */
  listConsents(ws: string, profileId: string): Promise<ConsentEntry[]>;
  /** The ledgers of several canonical profiles at once, keyed by the id asked for. */
  consentsOf(ws: string, profileIds: readonly string[]): Promise<Map<string, ConsentEntry[]>>;
  /** The stored privacy settings JSON, or null when never set. */
  getPrivacySettings(ws: string): Promise<unknown>;
  putPrivacySettings(ws: string, settings: unknown, now: number): Promise<void>;
  /**
   * Erases a canonical profile and every profile merged into it, in one transaction: every row of
   * every table with a `profile_id` column (discovered from the schema, so new tables are covered;
   * coupon codes are kept as used but no longer name the customer), the rows reached through them
   * (journey steps, message events), and the subscriptions and suppressions of the customer's
   * addresses and device tokens. Tombstones the profile ids and identities, and logs the counts.
   * Idempotent: a tombstoned id answers `already_erased`.
   */
  eraseProfile(
    ws: string,
    profileId: string,
    opts: { readonly id: string; readonly requestedBy: string; readonly now: number },
  ): Promise<ErasureOutcome>;
  /** Whether a profile id was erased. */
  isErased(ws: string, profileId: string): Promise<boolean>;
  /** The erasure log, newest first, `limit` ≤ 1000. */
  listErasures(ws: string, limit: number): Promise<ErasureRecord[]>;
  /** Events dropped because they named an erased identity, in total. */
  tombstoneHits(ws: string): Promise<number>;
  /**
   * Everything stored about a canonical profile, section by section in a fixed order, events in
   * pages of 1,000 (so a long history never sits in memory whole). Reads outside a transaction: a
   * customer's data changing during an export may be seen half-changed.
   */
  exportProfile(ws: string, profileId: string): AsyncIterable<ExportPage>;
  /** Deletes up to `limit` of the workspace's events with a timestamp before `before`; how many. */
  deleteEventsBefore(ws: string, before: number, limit: number): Promise<number>;
  /**
   * Lifts the tombstones of these identities (normalised values: the customer came back and asked
   * to be known again), so ingestion accepts them from now on; which of them were tombstoned. The
   * tombstones of erased profile ids stay (an erasure stays done). One transaction.
   */
  liftTombstones(ws: string, identities: readonly IdentityKey[]): Promise<IdentityKey[]>;
}

/** The tombstone of one identity: workspace-scoped, so one workspace's erasure says nothing of another's. */
export function tombstoneHash(ws: string, kind: string, value: string): string {
  return createHash('sha256').update(`${ws}\u0000${kind}\u0000${value}`).digest('hex');
}

/** Columns holding JSON (text on SQLite), parsed for export. */
export const JSON_COLUMNS = new Set([
  'payload',
  'traits',
  'trait_times',
  'facts',
  'segments',
  'properties',
  'value',
  'topics',
  'signal',
  'subscription',
  'definition',
]);

/**
 * Export's section order: the tables customers care about first; any other table with a
 * `profile_id` column follows in name order.
 */
export const EXPORT_ORDER = [
  'identities',
  'consent_events',
  'segment_members',
  'engagement_events',
  'journey_entries',
  'journey_messages',
  'survey_responses',
  'feedback',
  'inapp_interactions',
  'card_states',
  'content_cards',
  'coupon_codes',
  'devices',
  'group_members',
  'list_members',
];

/** How an erasure treats a table: most rows go; coupon codes stay spent but anonymous. */
export const ANONYMISED: Readonly<Record<string, string>> = {
  coupon_codes: 'profile_id = NULL, message_key = NULL',
};

/** The order export shows the tables with a profile_id column in (events come separately). */
export function sectionOrder(tables: readonly string[]): string[] {
  const known = EXPORT_ORDER.filter((t) => tables.includes(t));
  const rest = tables.filter((t) => !EXPORT_ORDER.includes(t) && t !== 'events').sort();
  return [...known, ...rest];
}

/** A row as export shows it: JSON columns parsed, bigint-like strings left as they are. */
export function exportRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === 'workspace_id') continue;
    if (typeof v === 'string' && JSON_COLUMNS.has(k)) {
      try {
        out[k] = JSON.parse(v) as unknown;
        continue;
      } catch {
        // not JSON after all: shown as stored
      }
    }
    out[k] = v;
  }
  return out;
}
