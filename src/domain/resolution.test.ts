import { describe, expect, it } from 'vitest';
import { resolveBatch, type LoadedState, type ProfileState } from './resolution.js';
import { identityKeyString, lookupKeysOf } from './identity.js';
import type { NormalizedEvent } from './event.js';
import { testEvent } from './testing.js';

/** An in-memory store good enough to run the resolver batch after batch, as an adapter would. */
class MemoryGraph {
  identities = new Map<string, string>();
  profiles = new Map<string, ProfileState>();
  mergedInto = new Map<string, string>();
  eventsOf = new Map<string, string[]>();
  private seq = 0;

  ingest(events: NormalizedEvent[]): ReturnType<typeof resolveBatch> {
    const state: LoadedState = { identities: new Map(), profiles: new Map() };
    for (const e of events) {
      for (const k of lookupKeysOf(e)) {
        const s = identityKeyString(k);
        const owner = this.identities.get(s);
        if (owner === undefined) continue;
        state.identities.set(s, owner);
        state.profiles.set(owner, structuredClone(this.profiles.get(owner)!));
      }
    }
    const r = resolveBatch(events, state, { newProfileId: () => `p${++this.seq}`, now: 1000 + this.seq });
    for (const m of r.merges) {
      this.mergedInto.set(m.from, m.into);
      this.profiles.delete(m.from);
      for (const [k, v] of this.identities) if (v === m.from) this.identities.set(k, m.into);
      const moved = this.eventsOf.get(m.from) ?? [];
      this.eventsOf.delete(m.from);
      this.eventsOf.set(m.into, [...(this.eventsOf.get(m.into) ?? []), ...moved]);
    }
    for (const p of [...r.created, ...r.updated]) this.profiles.set(p.id, p);
    for (const ni of r.newIdentities) this.identities.set(identityKeyString(ni.key), ni.profileId);
    r.assignments.forEach((pid, i) => {
      this.eventsOf.set(pid, [...(this.eventsOf.get(pid) ?? []), events[i]!.messageId]);
    });
    return r;
  }

  profileOf(kind: string, value: string): ProfileState | undefined {
    const id = this.identities.get(`${kind}:${value}`);
    return id === undefined ? undefined : this.profiles.get(id);
  }
}

const t = (minutes: number) => Date.UTC(2026, 0, 1) + minutes * 60_000;

describe('identity resolution', () => {
  it('creates one profile per new customer and reuses it for later events', () => {
    const g = new MemoryGraph();
    g.ingest([
      testEvent({ anonymousId: 'a1', messageId: 'e1' }),
      testEvent({ anonymousId: 'a1', messageId: 'e2' }),
    ]);
    g.ingest([testEvent({ anonymousId: 'a2', messageId: 'e3' })]);
    expect(g.profiles.size).toBe(2);
    expect(g.profileOf('anonymous_id', 'a1')?.eventCount).toBe(2);
  });

  it('merges an anonymous visitor into the known customer on identify, keeping every event', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ anonymousId: 'anon', messageId: 'browse', timestamp: t(0) })]);
    g.ingest([testEvent({ userId: 'u1', messageId: 'login-elsewhere', timestamp: t(1) })]);
    const r = g.ingest([
      testEvent({
        type: 'identify',
        userId: 'u1',
        anonymousId: 'anon',
        messageId: 'id',
        timestamp: t(2),
        traits: { name: 'Aiko' },
      }),
    ]);
    expect(r.merges).toHaveLength(1);
    const p = g.profileOf('user_id', 'u1')!;
    expect(g.profileOf('anonymous_id', 'anon')?.id).toBe(p.id);
    expect(p.eventCount).toBe(3);
    expect(p.firstSeenAt).toBe(t(0));
    expect(p.lastSeenAt).toBe(t(2));
    expect(p.traits).toEqual({ name: 'Aiko' });
    expect([...g.eventsOf.get(p.id)!].sort()).toEqual(['browse', 'id', 'login-elsewhere']);
    expect(g.profiles.size).toBe(1);
  });

  it('follows a merge chain A→B→C into one profile', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ anonymousId: 'A', messageId: '1' })]);
    g.ingest([testEvent({ anonymousId: 'B', messageId: '2' })]);
    g.ingest([
      testEvent({ type: 'identify', anonymousId: 'A', traits: { email: 'x@example.com' }, messageId: '3' }),
    ]);
    g.ingest([
      testEvent({ type: 'identify', anonymousId: 'B', traits: { email: 'X@example.com ' }, messageId: '4' }),
    ]);
    g.ingest([testEvent({ type: 'identify', userId: 'C', anonymousId: 'B', messageId: '5' })]);
    expect(g.profiles.size).toBe(1);
    const p = g.profileOf('user_id', 'C')!;
    expect(p.eventCount).toBe(5);
    expect(g.profileOf('anonymous_id', 'A')?.id).toBe(p.id);
    expect(g.profileOf('email', 'x@example.com')?.id).toBe(p.id);
  });

  it('never merges two known users implicitly: a shared device stays with its first user', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ type: 'identify', userId: 'alice', anonymousId: 'device', messageId: '1' })]);
    const r = g.ingest([
      testEvent({ type: 'identify', userId: 'bob', anonymousId: 'device', messageId: '2' }),
    ]);
    expect(r.refused).toHaveLength(1);
    expect(r.refused[0]!.userIds.sort()).toEqual(['alice', 'bob']);
    expect(g.profiles.size).toBe(2);
    expect(g.profileOf('anonymous_id', 'device')?.userId).toBe('alice');
    expect(g.profileOf('user_id', 'bob')?.eventCount).toBe(1);
    // A later anonymous event on the device belongs to the device's owner.
    g.ingest([testEvent({ anonymousId: 'device', messageId: '3' })]);
    expect(g.profileOf('user_id', 'alice')?.eventCount).toBe(2);
  });

  it('merges two known users when told to by alias, keeping the old user id as an identifier', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ userId: 'old-id', messageId: '1', timestamp: t(0) })]);
    g.ingest([testEvent({ userId: 'new-id', messageId: '2', timestamp: t(5) })]);
    const r = g.ingest([
      testEvent({ type: 'alias', userId: 'new-id', previousId: 'old-id', messageId: '3', timestamp: t(6) }),
    ]);
    expect(r.merges).toHaveLength(1);
    expect(g.profiles.size).toBe(1);
    const p = g.profileOf('user_id', 'new-id')!;
    expect(p.userId).toBe('new-id');
    expect(g.profileOf('user_id', 'old-id')?.id).toBe(p.id);
    expect(p.eventCount).toBe(3);
  });

  it('alias of an unknown previous id links it as an anonymous id', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ type: 'alias', userId: 'u', previousId: 'cookie-1', messageId: '1' })]);
    g.ingest([testEvent({ anonymousId: 'cookie-1', messageId: '2' })]);
    expect(g.profiles.size).toBe(1);
    expect(g.profileOf('user_id', 'u')?.eventCount).toBe(2);
  });

  it('keeps the newest value per trait even when identifies arrive out of order', () => {
    const g = new MemoryGraph();
    g.ingest([
      testEvent({
        type: 'identify',
        userId: 'u',
        traits: { plan: 'pro', city: 'Osaka' },
        timestamp: t(10),
        messageId: '1',
      }),
    ]);
    g.ingest([
      testEvent({
        type: 'identify',
        userId: 'u',
        traits: { plan: 'free', age: 30 },
        timestamp: t(1),
        messageId: '2',
      }),
    ]);
    expect(g.profileOf('user_id', 'u')?.traits).toEqual({ plan: 'pro', city: 'Osaka', age: 30 });
  });

  it('merging keeps per key whichever profile set the trait last', () => {
    const g = new MemoryGraph();
    g.ingest([
      testEvent({
        type: 'identify',
        anonymousId: 'a',
        traits: { color: 'red', size: 'M' },
        timestamp: t(9),
        messageId: '1',
      }),
    ]);
    g.ingest([
      testEvent({
        type: 'identify',
        userId: 'u',
        traits: { color: 'blue', size: 'L' },
        timestamp: t(3),
        messageId: '2',
      }),
    ]);
    g.ingest([
      testEvent({ type: 'identify', userId: 'u', anonymousId: 'a', timestamp: t(4), messageId: '3' }),
    ]);
    expect(g.profileOf('user_id', 'u')?.traits).toEqual({ color: 'red', size: 'M' });
  });

  it('resolves merges inside one batch and assigns every event to the survivor', () => {
    const g = new MemoryGraph();
    const r = g.ingest([
      testEvent({ anonymousId: 'x', messageId: '1' }),
      testEvent({ anonymousId: 'y', messageId: '2' }),
      testEvent({ type: 'identify', userId: 'u', anonymousId: 'x', messageId: '3' }),
      testEvent({ type: 'identify', userId: 'u', anonymousId: 'y', messageId: '4' }),
    ]);
    expect(new Set(r.assignments).size).toBe(1);
    expect(r.created).toHaveLength(1);
    expect(r.merges).toHaveLength(0);
    expect(r.created[0]!.eventCount).toBe(4);
  });

  it('points a stored loser at the final survivor when the chain passes through a new profile', () => {
    const g = new MemoryGraph();
    g.ingest([testEvent({ anonymousId: 'old', messageId: '1' })]);
    g.ingest([testEvent({ userId: 'known', messageId: '2' })]);
    const r = g.ingest([
      testEvent({ type: 'identify', userId: 'fresh', anonymousId: 'tmp', messageId: '3' }),
      testEvent({ type: 'identify', anonymousId: 'tmp', traits: { email: 'k@example.com' }, messageId: '4' }),
      testEvent({ type: 'alias', previousId: 'old', userId: 'fresh', messageId: '5' }),
      testEvent({ type: 'alias', previousId: 'fresh', userId: 'known', messageId: '6' }),
    ]);
    const survivor = g.profileOf('user_id', 'known')!;
    for (const m of r.merges) expect(m.into).toBe(survivor.id);
    expect(g.profiles.size).toBe(1);
    expect(survivor.eventCount).toBe(6);
  });
});
