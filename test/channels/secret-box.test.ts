import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSecretKey, SecretBox } from '../../src/channels/secret-box.js';
import { loadConfig } from '../../src/config.js';
import { RateLimits } from '../../src/engine/delivery/rate-limits.js';

describe('secret box', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, and nothing sealed for another workspace, under another key or altered', () => {
    const sealed = box.seal({ password: 'パスワード' }, 'ws_a/email');
    expect(sealed).not.toContain('パスワード');
    expect(box.open(sealed, 'ws_a/email')).toEqual({ password: 'パスワード' });
    expect(() => box.open(sealed, 'ws_b/email')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'ws_a/email')).toThrow();
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => box.open(parts.join('.'), 'ws_a/email')).toThrow();
    // A fresh nonce each time: the same value never seals to the same text.
    expect(box.seal({ a: '1' }, 'c')).not.toBe(box.seal({ a: '1' }, 'c'));
  });

  it('creates a private key file once and reads the same key back; the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kizuna-key-'));
    try {
      const file = join(dir, 'data', 'secret.key');
      const a = loadSecretKey(null, file);
      expect(a).toHaveLength(32);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadSecretKey(null, file).equals(a)).toBe(true);
      const env = randomBytes(32);
      expect(loadSecretKey(env.toString('base64'), file).equals(env)).toBe(true);
      expect(readFileSync(file, 'utf8').trim()).toBe(a.toString('base64'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives processes starting together on one data directory the same key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kizuna-key-race-'));
    try {
      const file = join(dir, 'secret.key');
      const lib = new URL('../../dist/channels/secret-box.js', import.meta.url).href;
      const script = `import(${JSON.stringify(lib)}).then((m) => process.stdout.write(m.loadSecretKey(null, ${JSON.stringify(file)}).toString('base64')))`;
      const keys = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<string>((resolve, reject) => {
              const child = spawn(process.execPath, ['-e', script]);
              let out = '';
              child.stdout.on('data', (d: Buffer) => (out += d.toString()));
              child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
            }),
        ),
      );
      expect(new Set(keys).size).toBe(1);
      expect(readFileSync(file, 'utf8').trim()).toBe(keys[0]);
      expect(readdirSync(dir)).toEqual(['secret.key']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a KIZUNA_SECRET_KEY that is not 32 bytes of base64, naming the variable', () => {
    expect(() => loadConfig({ KIZUNA_SECRET_KEY: 'short' })).toThrow(
      'KIZUNA_SECRET_KEY: must be 32 random bytes in base64 (openssl rand -base64 32)',
    );
    const key = randomBytes(32).toString('base64');
    expect(loadConfig({ KIZUNA_SECRET_KEY: key }).secretKey).toBe(key);
  });
});

describe('rate limits', () => {
  it('lets a second of sends through, then spreads the rest one slot apart', () => {
    const r = new RateLimits();
    const t = 1_000_000;
    expect([r.take('k', 2, t), r.take('k', 2, t)]).toEqual([0, 0]);
    expect([r.take('k', 2, t), r.take('k', 2, t), r.take('k', 2, t)]).toEqual([500, 1000, 1500]);
    expect(r.take('k', 2, t + 500)).toBe(0);
    expect(r.take('other', 2, t)).toBe(0);
    expect(r.take('k', null, t)).toBe(0);
  });
});
