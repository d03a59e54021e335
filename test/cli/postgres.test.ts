import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, runSql, scratchDatabase, serverUrl } from '../support/postgres.js';
import { kizuna, startKizuna, type Running } from './run.js';

const unavailable = await postgresUnavailable('the two-server PostgreSQL test');
const db = scratchDatabase();

describe.skipIf(unavailable !== null)('two kizuna servers sharing one PostgreSQL database', () => {
  const env = { DATABASE_URL: db.url };
  let servers: Running[] = [];
  let keys: { writeKey: string; adminKey: string };

  beforeAll(async () => {
    await runSql(serverUrl, `CREATE DATABASE ${db.name}`);
    // Both start on the empty database at once: they race to migrate and to create "demo".
    servers = await Promise.all([startKizuna(env), startKizuna(env)]);
    const created = await kizuna(['workspace', 'create', 'shared', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    keys = JSON.parse(created.stdout) as typeof keys;
  });
  afterAll(async () => {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    await runSql(serverUrl, `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  });

  const send = (server: Running, batch: unknown[]) =>
    fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch }),
    });

  it('both came up on an empty database, and only one created the demo workspace and showed its keys', () => {
    expect(servers.map((s) => s.stderr().includes('Created workspace "demo"')).filter(Boolean)).toHaveLength(
      1,
    );
  });

  it('merges halves of each customer sent to different servers at once into one profile, readable from either', async () => {
    const requests: Promise<Response>[] = [];
    for (let c = 0; c < 20; c++) {
      // The web visit and the app install reach different servers; both then name the same user.
      requests.push(
        send(servers[0]!, [
          { type: 'page', anonymousId: `web-${c}`, name: 'Home', messageId: `w${c}-1` },
          {
            type: 'identify',
            anonymousId: `web-${c}`,
            userId: `cust-${c}`,
            traits: { email: `c${c}@example.com` },
            messageId: `w${c}-2`,
          },
        ]),
        send(servers[1]!, [
          { type: 'screen', anonymousId: `app-${c}`, name: 'Launch', messageId: `a${c}-1` },
          {
            type: 'identify',
            anonymousId: `app-${c}`,
            traits: { email: `c${c}@example.com` },
            messageId: `a${c}-2`,
          },
          {
            type: 'track',
            userId: `cust-${c}`,
            event: 'Order Completed',
            properties: { revenue: 100 * c },
            messageId: `a${c}-3`,
          },
        ]),
      );
    }
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    for (let c = 0; c < 20; c++) {
      const [viaWeb, viaApp] = await Promise.all(
        [`anonymousId=web-${c}`, `anonymousId=app-${c}`].map(async (q, i) => {
          const r = await fetch(`${servers[i]!.url}/api/v1/profiles/lookup?${q}`, {
            headers: { authorization: `Bearer ${keys.adminKey}` },
          });
          return (await r.json()) as { id: string; userId: string; eventCount: number };
        }),
      );
      expect(viaWeb, `customer ${c}`).toMatchObject({ userId: `cust-${c}`, eventCount: 5 });
      expect(viaApp!.id).toBe(viaWeb!.id);
    }
  });
});
