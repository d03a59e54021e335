/**
 * Who this browser is: an anonymous id (random, made on first use), the user id and traits the site
 * gave with identify, and the identity-verification hash. Kept in first-party storage when the SDK
 * may store (see consent.ts), in memory otherwise.
 */
import { uuid } from './ids.js';
import type { KV } from './kv.js';

export type Traits = Record<string, unknown>;

const K = { anon: 'kz_anon', user: 'kz_user', traits: 'kz_traits', hash: 'kz_uhash' } as const;

export class Identity {
  anonymousId: string;
  userId: string | null;
  traits: Traits;
  userHash: string | null;

  constructor(private store: KV) {
    this.anonymousId = store.get(K.anon) || uuid();
    this.userId = store.get(K.user);
    this.userHash = store.get(K.hash);
    let traits: unknown = null;
    try {
      traits = JSON.parse(store.get(K.traits) ?? 'null');
    } catch {
      traits = null;
    }
    this.traits = traits && typeof traits === 'object' && !Array.isArray(traits) ? (traits as Traits) : {};
    this.save();
  }

  /** Moves to another store (consent given or withdrawn), writing the current identity there. */
  moveTo(store: KV): void {
    this.store = store;
    this.save();
  }

  /**
   * A user id: a different user than the stored one starts a new anonymous id and drops the old
   * traits, so two people sharing a browser are never merged into one profile.
   */
  identify(userId: string | null, traits: Traits | null, userHash: string | null): void {
    if (userId !== null && this.userId !== null && userId !== this.userId) {
      this.anonymousId = uuid();
      this.traits = {};
      this.userHash = null;
    }
    if (userId !== null) this.userId = userId;
    if (userHash !== null) this.userHash = userHash;
    if (traits) this.traits = { ...this.traits, ...traits };
    this.save();
  }

  reset(): void {
    this.anonymousId = uuid();
    this.userId = null;
    this.traits = {};
    this.userHash = null;
    this.save();
  }

  /** Forgets everything stored in `store` (consent withdrawn). */
  static erase(store: KV): void {
    for (const k of Object.values(K)) store.remove(k);
  }

  private save(): void {
    this.store.set(K.anon, this.anonymousId);
    if (this.userId === null) this.store.remove(K.user);
    else this.store.set(K.user, this.userId);
    if (this.userHash === null) this.store.remove(K.hash);
    else this.store.set(K.hash, this.userHash);
    if (Object.keys(this.traits).length === 0) this.store.remove(K.traits);
    else this.store.set(K.traits, JSON.stringify(this.traits));
  }
}
