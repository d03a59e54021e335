import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kizuna, startKizuna } from './run.js';

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kizuna-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe('kizuna command line', () => {
  it('creates a workspace and prints its keys as JSON; a taken name is a clear error', async () => {
    const env = { KIZUNA_DATA_DIR: dataDir() };
    const r = await kizuna(['workspace', 'create', 'acme', '--json'], env);
    expect(r.code).toBe(0);
    const ws = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(ws).sort()).toEqual(['adminKey', 'id', 'writeKey']);
    expect(ws['writeKey']).toMatch(/^wk_/);
    expect(ws['adminKey']).toMatch(/^ak_/);
    const again = await kizuna(['workspace', 'create', 'acme', '--json'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a workspace named "acme" already exists');
    expect(again.stdout).toBe('');
  });

  it('refuses bad settings with a message naming the setting', async () => {
    const r = await kizuna(['start', '--port', 'abc'], { KIZUNA_DATA_DIR: dataDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port / PORT: must be a number');
    const pg = await kizuna(['migrate'], { DATABASE_URL: 'mysql://x' });
    expect(pg.code).toBe(2);
    expect(pg.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  });

  it('starts on an empty store with a demo workspace, logs JSON lines, and serves workspaces created while it runs', async () => {
    const env = { KIZUNA_DATA_DIR: dataDir() };
    const server = await startKizuna(env);
    try {
      expect(server.logs.every((l) => typeof l['level'] === 'number' && typeof l['time'] === 'number')).toBe(
        true,
      );
      expect(server.logs.some((l) => l['msg'] === 'applied migrations')).toBe(true);
      const demoKey = /write key \(SDKs\):\s+(\S+)/.exec(server.stderr())?.[1];
      expect(demoKey).toMatch(/^wk_/);
      const created = await kizuna(['workspace', 'create', 'live', '--json'], env);
      expect(created.code).toBe(0);
      const live = JSON.parse(created.stdout) as { writeKey: string; adminKey: string };
      for (const key of [demoKey!, live.writeKey]) {
        const res = await fetch(`${server.url}/v1/track`, {
          method: 'POST',
          headers: { authorization: basic(key), 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'cli-user', event: 'Started' }),
        });
        expect(res.status).toBe(200);
      }
      const p = await fetch(`${server.url}/api/v1/profiles/lookup?userId=cli-user`, {
        headers: { authorization: `Bearer ${live.adminKey}` },
      });
      expect(await p.json()).toMatchObject({ eventCount: 1 });
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    // A restart on the same data does not create another demo workspace or print keys again.
    const again = await startKizuna(env);
    again.child.kill('SIGTERM');
    await again.exited;
    expect(again.stderr()).not.toContain('write key');
  });

  it('fills a demo shop with progress, and a second run with the same seed stores nothing twice', async () => {
    const env = { KIZUNA_DATA_DIR: dataDir() };
    const first = await kizuna(['demo', '--customers', '60', '--seed', '7'], env);
    expect(first.code, first.stderr).toBe(0);
    const stored = Number(/Stored ([\d,]+) events/.exec(first.stderr)?.[1]?.replace(/,/g, ''));
    expect(stored).toBeGreaterThan(300);
    expect(first.stderr).toMatch(/customers done: 60 in/);
    expect(first.stderr).toContain('admin key:');
    const second = await kizuna(['demo', '--customers', '60', '--seed', '7'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `Stored 0 events for 60 customers in workspace "demo" (${stored.toLocaleString('en-US')} were already there)`,
    );
    // The demo shop's catalogue came with it: its views and orders rebuild into recommendations.
    const rebuilt = await kizuna(['recommendations', 'rebuild', '--workspace', 'demo'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const counts =
      /^(\d+) customers read \((\d+) with catalogue items\), (\d+) of (\d+) available items/.exec(
        rebuilt.stdout,
      );
    expect(counts?.slice(1).map(Number)).toEqual([60, expect.any(Number), expect.any(Number), 32]);
    expect(Number(counts?.[2])).toBeGreaterThan(10);
    expect(Number(counts?.[3])).toBeGreaterThan(10);
    expect(rebuilt.stderr).toContain('reading customers');
  });
});
