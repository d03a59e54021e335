import { generateKeyPairSync } from 'node:crypto';

/** A key pair as PEM: PKCS#8 private key, SPKI public key (RSA 2048 or EC P-256). */
export function pemKeys(type: 'rsa' | 'ec'): { privateKey: string; publicKey: string } {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
