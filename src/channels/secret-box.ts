/**
 * Provider credentials at rest: AES-256-GCM under the server's secret key, with a fresh 96-bit nonce
 * per value and the workspace and channel bound in as associated data, so a sealed value copied into
 * another workspace's row does not open. Sealed form: `v1.<nonce>.<tag>.<ciphertext>` (base64url).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  }

  seal(value: Record<string, string>, context: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return ['v1', nonce, cipher.getAuthTag(), ct]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws when the value was sealed under another key or context, or was altered. */
  open(sealed: string, context: string): Record<string, string> {
    const [v, nonce, tag, ct] = sealed.split('.');
    if (v !== 'v1' || nonce === undefined || tag === undefined || ct === undefined)
      throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Record<string, string>;
  }
}

/**
 * The server's secret key: KIZUNA_SECRET_KEY (base64 of 32 bytes) when set, else the key file in the
 * data directory, created with a random key on first start (mode 0600). Several processes sharing one
 * PostgreSQL database must share the key: set KIZUNA_SECRET_KEY on all of them.
 */
export function loadSecretKey(fromEnv: string | null, keyFile: string): Buffer {
  if (fromEnv !== null) return Buffer.from(fromEnv, 'base64');
  if (existsSync(keyFile)) {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${keyFile} does not hold a 32-byte base64 key`);
    return key;
  }
  mkdirSync(dirname(keyFile), { recursive: true });
  // Several processes may start at once on one data directory: the key is written whole to a file of
  // this process's own, then linked into place, which fails if another process got there first; the
  // loser reads the winner's key.
  const key = randomBytes(32);
  const mine = `${keyFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(mine, `${key.toString('base64')}\n`, { mode: 0o600 });
  chmodSync(mine, 0o600);
  try {
    linkSync(mine, keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadSecretKey(null, keyFile);
  } finally {
    unlinkSync(mine);
  }
  return key;
}
