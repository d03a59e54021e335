import { describe, expect, it } from 'vitest';
import { hashPassword, SCRYPT, verifyPassword } from './password.js';

describe('staff passwords (scrypt)', () => {
  it('hashes with a per-user salt and the documented parameters, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    const [alg, N, r, p, salt, key] = a.split('$');
    expect([alg, Number(N), Number(r), Number(p)]).toEqual(['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p]);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(SCRYPT.saltBytes);
    expect(Buffer.from(key!, 'base64url')).toHaveLength(SCRYPT.keyLength);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse battery', b)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('treats compatibility forms alike (a full-width password typed on a Japanese keyboard)', async () => {
    const h = await hashPassword('ｐａｓｓｗｏｒｄ１２３');
    expect(await verifyPassword('password123', h)).toBe(true);
  });

  it('refuses malformed or foreign hash strings instead of throwing', async () => {
    for (const bad of [
      '',
      'bcrypt$x',
      'scrypt$0$8$1$aa$bb',
      'scrypt$16384$8$1$aa$',
      `scrypt$${2 ** 24}$8$1$aa$bb`,
    ])
      expect(await verifyPassword('x', bad)).toBe(false);
  });
});
