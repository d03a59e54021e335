import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, kizuna, startKizuna, type Run } from './run.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** `kizuna user create ...` with the password piped to standard input. */
function createUser(args: string[], password: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'user', 'create', ...args], {
      env: { ...process.env, DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(`${password}\n`);
  });
}

describe('kizuna user create', () => {
  it('creates the first admin while a server runs on the same data, who can then sign in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kizuna-cli-user-'));
    dirs.push(dir);
    const env = { KIZUNA_DATA_DIR: dir };
    const server = await startKizuna(env);
    try {
      const r = await createUser(
        [
          '--workspace',
          'demo',
          '--email',
          'Aiko@Example.jp',
          '--role',
          'admin',
          '--locale',
          'ja',
          '--password-stdin',
        ],
        'a long enough secret',
        env,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, string>;
      expect(Object.keys(out).sort()).toEqual(['email', 'id', 'role']);
      expect(out).toMatchObject({ email: 'aiko@example.jp', role: 'admin' });

      const res = await fetch(`${server.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'aiko@example.jp', password: 'a long enough secret' }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        user: { id: string; locale: string };
        workspace: { name: string };
      };
      expect(body.user.id).toBe(out['id']);
      expect(body.user.locale).toBe('ja');
      expect(body.workspace.name).toBe('demo');

      const taken = await createUser(
        ['--workspace', 'demo', '--email', 'aiko@example.jp', '--role', 'support', '--password-stdin'],
        'another long secret',
        env,
      );
      expect(taken.code).toBe(2);
      expect(taken.stderr).toContain('already exists');
      const badRole = await createUser(
        ['--workspace', 'demo', '--email', 'ken@example.jp', '--role', 'owner', '--password-stdin'],
        'a long enough secret',
        env,
      );
      expect(badRole.code).toBe(2);
      expect(badRole.stderr).toContain('role: must be one of admin, marketer, analyst, support');
      const short = await createUser(
        ['--workspace', 'demo', '--email', 'ken@example.jp', '--role', 'support', '--password-stdin'],
        'short',
        env,
      );
      expect(short.stderr).toContain('password: must be at least 10 characters');
      const noStdin = await kizuna(
        ['user', 'create', '--workspace', 'demo', '--email', 'ken@example.jp', '--role', 'support'],
        env,
      );
      expect(noStdin.code).toBe(2);
      expect(noStdin.stderr).toContain('--password-stdin: is required');
      const noWs = await createUser(
        ['--workspace', 'nope', '--email', 'ken@example.jp', '--role', 'support', '--password-stdin'],
        'a long enough secret',
        env,
      );
      expect(noWs.stderr).toContain('no workspace with id or name "nope"');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
