import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { ApiKeyRecord, AuditEntry, StaffUser } from '../../src/store/access-store.js';
import type { Store } from '../../src/store/store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);

const user = (over: Partial<StaffUser>): StaffUser => ({
  workspaceId: 'set-below',
  id: 'usr_1',
  email: 'aiko@example.jp',
  name: 'Aiko',
  role: 'admin',
  locale: 'ja',
  disabled: false,
  passwordHash: 'scrypt$1$1$1$aa$bb',
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

const entry = (ws: string, over: Partial<AuditEntry>): AuditEntry => ({
  workspaceId: ws,
  at: T0,
  actorType: 'user',
  actorId: 'usr_1',
  actorName: 'aiko@example.jp',
  action: 'GET /api/v1/profiles/:id',
  resourceType: 'profile',
  resourceId: 'p1',
  status: 200,
  ip: '127.0.0.1',
  userAgent: 'test',
  ...over,
});

/**
 * Staff users, sessions, keys and the audit log (src/store/access-store.ts), on every adapter. `raw`
 * runs SQL on the same database, to show that the audit table itself refuses UPDATE and DELETE.
 */
export function accessContract(
  name: string,
  harness: () => StoreHarness & { raw(sql: string): Promise<void> },
): void {
  describe(`${name} access store contract`, () => {
    let store: Store;
    let h: ReturnType<typeof harness>;
    let ws: string;
    let other: string;

    beforeEach(async () => {
      h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
      other = (await store.createWorkspace({ name: 'other', writeKeyHash: 'w2', adminKeyHash: 'a2' })).id;
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores users, finds them by e-mail across workspaces, refuses a taken e-mail, applies patches', async () => {
      await store.createStaffUser(user({ workspaceId: ws }));
      await store.createStaffUser(
        user({ workspaceId: other, id: 'usr_2', role: 'analyst', createdAt: T0 + 1 }),
      );
      await expect(store.createStaffUser(user({ workspaceId: ws, id: 'usr_3' }))).rejects.toMatchObject({
        name: 'ConflictError',
      });
      expect(
        (await store.findStaffUsersByEmail('aiko@example.jp')).map((u) => [u.workspaceId, u.role]),
      ).toEqual([
        [ws, 'admin'],
        [other, 'analyst'],
      ]);
      expect(await store.getStaffUser(ws, 'usr_1')).toEqual(user({ workspaceId: ws }));
      expect(await store.getStaffUser(other, 'usr_1')).toBeNull();
      const changed = await store.updateStaffUser(ws, 'usr_1', { role: 'support', locale: 'en' }, T0 + 5);
      expect(changed).toEqual(user({ workspaceId: ws, role: 'support', locale: 'en', updatedAt: T0 + 5 }));
      expect(await store.getStaffUser(ws, 'usr_1')).toEqual(changed);
      expect(await store.updateStaffUser(other, 'usr_1', { role: 'admin' }, T0)).toBeNull();
      expect((await store.listStaffUsers(ws)).map((u) => u.id)).toEqual(['usr_1']);
    });

    it('keeps sessions by token hash; touching moves last-seen forward only; disabling a user ends them', async () => {
      await store.createStaffUser(user({ workspaceId: ws }));
      const s = {
        tokenHash: 'th1',
        workspaceId: ws,
        userId: 'usr_1',
        csrfToken: 'c',
        createdAt: T0,
        lastSeenAt: T0,
      };
      await store.createSession(s);
      await store.createSession({ ...s, tokenHash: 'th2' });
      expect(await store.findSession('th1')).toEqual(s);
      await store.touchSession('th1', T0 + 100);
      await store.touchSession('th1', T0 + 50);
      expect((await store.findSession('th1'))?.lastSeenAt).toBe(T0 + 100);
      await store.deleteSession('th1');
      expect(await store.findSession('th1')).toBeNull();
      await store.updateStaffUser(ws, 'usr_1', { disabled: true }, T0 + 1);
      expect(await store.findSession('th2')).toBeNull();
    });

    it('stores scoped keys by hash, finds them for authentication until revoked, lists them newest first', async () => {
      const k: ApiKeyRecord = {
        id: 'key_reports',
        workspaceId: ws,
        name: 'BI tool',
        scope: 'reports',
        createdBy: 'user:usr_1 aiko@example.jp',
        createdAt: T0 + 10,
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.createApiKey(k, 'hash-reports');
      await store.createApiKey(
        { ...k, id: 'key_ingest', scope: 'ingest', createdAt: T0 + 20 },
        'hash-ingest',
      );
      expect(await store.findKey('hash-reports')).toEqual({
        workspaceId: ws,
        kind: 'admin',
        id: 'key_reports',
        name: 'BI tool',
        scope: 'reports',
      });
      expect((await store.findKey('hash-ingest'))?.kind).toBe('write');
      await store.touchApiKey(ws, 'key_reports', T0 + 30);
      await store.touchApiKey(ws, 'key_reports', T0 + 25);
      const listed = await store.listApiKeys(ws);
      expect(listed.map((x) => x.id)).toEqual(['key_ingest', 'key_reports', 'key_w', 'key_a']);
      expect(listed[1]).toEqual({ ...k, lastUsedAt: T0 + 30 });
      expect(listed[3]).toMatchObject({ name: 'admin key', scope: 'admin', createdBy: null });
      expect(await store.revokeApiKey(other, 'key_reports', T0 + 40)).toBeNull();
      expect(await store.revokeApiKey(ws, 'key_reports', T0 + 40)).toEqual({
        ...k,
        lastUsedAt: T0 + 30,
        revokedAt: T0 + 40,
      });
      expect((await store.revokeApiKey(ws, 'key_reports', T0 + 99))?.revokedAt).toBe(T0 + 40);
      expect(await store.findKey('hash-reports')).toBeNull();
    });

    it('appends audit entries and reads them newest first, filtered and paged, per workspace', async () => {
      await store.appendAudit([
        entry(ws, { at: T0 }),
        entry(ws, {
          at: T0 + 1,
          actorType: 'key',
          actorId: 'key_a',
          actorName: 'admin key',
          action: 'PUT /api/v1/segments/:id',
          resourceType: 'segment',
          resourceId: 's1',
        }),
        entry(ws, { at: T0 + 2, resourceId: 'p2' }),
        entry(other, { at: T0 + 3 }),
      ]);
      await store.appendAudit([]);
      const all = await store.listAudit(ws, { limit: 10 });
      expect(all.map((e) => e.at)).toEqual([T0 + 2, T0 + 1, T0]);
      expect(all[1]).toEqual({
        ...entry(ws, {
          at: T0 + 1,
          actorType: 'key',
          actorId: 'key_a',
          actorName: 'admin key',
          action: 'PUT /api/v1/segments/:id',
          resourceType: 'segment',
          resourceId: 's1',
        }),
        id: all[1]!.id,
      });
      expect((await store.listAudit(ws, { limit: 10, actorId: 'key_a' })).map((e) => e.resourceId)).toEqual([
        's1',
      ]);
      expect(
        (await store.listAudit(ws, { limit: 10, resourceType: 'profile', resourceId: 'p1' })).length,
      ).toBe(1);
      expect((await store.listAudit(ws, { limit: 10, from: T0 + 1, to: T0 + 2 })).map((e) => e.at)).toEqual([
        T0 + 1,
      ]);
      const page = await store.listAudit(ws, { limit: 2 });
      const rest = await store.listAudit(ws, { limit: 2, before: page[1]!.id });
      expect([...page, ...rest].map((e) => e.at)).toEqual([T0 + 2, T0 + 1, T0]);
    });

    it('lets the retention sweep delete expired audit rows, and only those, through its own path', async () => {
      const DAY = 86_400_000;
      await store.appendAudit([
        entry(ws, { at: T0 - 500 * DAY }),
        entry(ws, { at: T0 - 401 * DAY }),
        entry(ws, { at: T0 - 10 * DAY }),
        entry(other, { at: T0 - 500 * DAY }),
      ]);
      // A raw DELETE of an expired row is refused like any other: only the sweep's path lets it go.
      await expect(h.raw(`DELETE FROM audit_log WHERE at < ${T0 - 400 * DAY}`)).rejects.toThrow(
        /append-only/,
      );
      expect(await store.purgeAudit(ws, T0 - 400 * DAY, 1)).toBe(1);
      expect(await store.purgeAudit(ws, T0 - 400 * DAY, 100)).toBe(1);
      expect(await store.purgeAudit(ws, T0 - 400 * DAY, 100)).toBe(0);
      expect((await store.listAudit(ws, { limit: 10 })).map((e) => e.at)).toEqual([T0 - 10 * DAY]);
      // The other workspace keeps its own rows, and the path leaves nothing behind that would let a
      // later DELETE through.
      expect(await store.listAudit(other, { limit: 10 })).toHaveLength(1);
      await expect(h.raw('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(h.raw("UPDATE audit_log SET actor_name = 'x'")).rejects.toThrow(/append-only/);
    });

    it('refuses to update or delete audit rows, whoever asks', async () => {
      await store.appendAudit([entry(ws, {})]);
      await expect(h.raw("UPDATE audit_log SET actor_name = 'someone else'")).rejects.toThrow(/append-only/);
      await expect(h.raw('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      expect((await store.listAudit(ws, { limit: 10 }))[0]?.actorName).toBe('aiko@example.jp');
    });
  });
}
