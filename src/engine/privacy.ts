/**
 * The customer's data rights as one service (docs/privacy.md): recording consent (through the
 * subscriptions where a purpose has contact points, so e-mail opt-in has one state), the workspace's
 * privacy settings, erasure, and the retention sweep.
 */
import type { Clock } from '../domain/clock.js';
import {
  currentConsents,
  DEFAULT_PRIVACY,
  parsePrivacySettings,
  profilingAllowed,
  retentionCutoff,
  type ConsentEntry,
  type ConsentStatus,
  type PrivacySettings,
} from '../domain/consent.js';
import { newId } from '../ids.js';
import type { Subscription } from '../store/delivery-store.js';
import type { ErasureOutcome } from '../store/rights-store.js';
import type { ProfileView, Store } from '../store/store.js';

export interface ConsentChange {
  readonly purpose: string;
  readonly status: ConsentStatus;
  readonly source: string;
  readonly method: string;
  readonly textVersion: string | null;
}

/** The channel and identity kind whose contact points carry a purpose's subscription state. */
const CONTACT_PURPOSES: Readonly<Record<string, { channel: string; kind: string }>> = {
  email_marketing: { channel: 'email', kind: 'email' },
  sms: { channel: 'sms', kind: 'phone' },
};

/** Events deleted per retention transaction, so one sweep never holds the writer for long. */
const RETENTION_BATCH = 5000;
const DAY_MS = 24 * 60 * 60_000;

export class PrivacyService {
  private readonly cache = new Map<string, { at: number; settings: PrivacySettings }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The workspace's privacy settings, re-read at most once a second. */
  async settingsOf(ws: string): Promise<PrivacySettings> {
    const now = this.clock.now();
    const hit = this.cache.get(ws);
    if (hit && now - hit.at < 1000 && now >= hit.at) return hit.settings;
    const raw = await this.store.getPrivacySettings(ws);
    const p = raw === null ? null : parsePrivacySettings(raw);
    const settings = p?.ok ? p.settings : DEFAULT_PRIVACY;
    this.cache.set(ws, { at: now, settings });
    return settings;
  }

  async putSettings(ws: string, raw: unknown, settings: PrivacySettings): Promise<void> {
    await this.store.putPrivacySettings(ws, raw, this.clock.now());
    this.cache.set(ws, { at: this.clock.now(), settings });
  }

  /**
   * Records consent changes of one canonical profile. A purpose with contact points (e-mail
   * marketing, SMS) changes the `*` subscription of each of the customer's addresses, which appends
   * the ledger entry in the same transaction (so the preference centre and the ledger agree); a
   * purpose without (or a customer with no address for it) is appended to the ledger directly.
   */
  async record(ws: string, profile: ProfileView, changes: readonly ConsentChange[]): Promise<void> {
    const at = this.clock.now();
    const subs: Subscription[] = [];
    const direct: ConsentEntry[] = [];
    for (const c of changes) {
      const contact = CONTACT_PURPOSES[c.purpose];
      const addresses = contact ? profile.identities.filter((i) => i.kind === contact.kind) : [];
      if (!contact || addresses.length === 0) {
        direct.push({ profileId: profile.id, ...c, topic: null, at });
        continue;
      }
      for (const a of addresses)
        subs.push({
          channel: contact.channel,
          address: a.value,
          topic: '*',
          status: c.status === 'granted' ? 'subscribed' : 'unsubscribed',
          source: c.source,
          at,
          consent: { method: c.method, textVersion: c.textVersion },
        });
    }
    if (subs.length > 0) await this.store.setSubscription(ws, subs);
    if (direct.length > 0) await this.store.recordConsents(ws, direct);
  }

  /**
   * Whether a customer may be profiled (personalised content, profiling segments): see
   * profilingAllowed. One indexed read of the customer's ledger.
   */
  async mayProfile(ws: string, profileId: string): Promise<boolean> {
    const settings = await this.settingsOf(ws);
    return profilingAllowed(settings, currentConsents(await this.store.listConsents(ws, profileId)));
  }

  /** Erases a customer (the id may be one merged away: its survivor is erased). */
  async erase(ws: string, profileId: string, requestedBy: 'api' | 'customer'): Promise<ErasureOutcome> {
    const now = this.clock.now();
    const profile = await this.store.getProfile(ws, profileId);
    if (!profile)
      return (await this.store.isErased(ws, profileId))
        ? { status: 'already_erased' }
        : { status: 'not_found' };
    return this.store.eraseProfile(ws, profile.id, { id: newId('er', now), requestedBy, now });
  }

  /**
   * Deletes the workspace's audit-log entries older than its audit retention, in batches (through
   * the one path the table's trigger lets delete, and only rows past the cut-off); how many.
   */
  async applyAuditRetention(ws: string): Promise<number> {
    const { auditRetentionDays } = await this.settingsOf(ws);
    const before = this.clock.now() - auditRetentionDays * DAY_MS;
    let total = 0;
    for (;;) {
      const n = await this.store.purgeAudit(ws, before, RETENTION_BATCH);
      total += n;
      if (n < RETENTION_BATCH) return total;
    }
  }

  /**
   * Deletes the workspace's raw events older than its retention (none when it keeps them), in
   * batches; returns how many. Aggregates live elsewhere (profiles' facts and computed traits, stage
   * history, segment sizes, journey results) and are kept.
   */
  async applyRetention(ws: string): Promise<number> {
    const { retentionMonths } = await this.settingsOf(ws);
    if (retentionMonths === null) return 0;
    const before = retentionCutoff(this.clock.now(), retentionMonths);
    let total = 0;
    for (;;) {
      const n = await this.store.deleteEventsBefore(ws, before, RETENTION_BATCH);
      total += n;
      if (n < RETENTION_BATCH) return total;
    }
  }
}
