import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LinkSigner } from '../../src/channels/links.js';

const links = new LinkSigner(randomBytes(32), () => 'https://engage.example.com/');
const contact = { ws: 'ws_1', channel: 'email', address: 'ann@example.com' };
const token = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describe('signed links', () => {
  it('reads back each kind of link only as that kind', () => {
    const p = links.preferencesUrl(contact);
    const c = links.confirmUrl({ ...contact, topic: 'news', issuedAt: 1000 });
    const u = links.unsubscribeUrl({ ...contact, topic: 'news' });
    expect(p.startsWith('https://engage.example.com/p/')).toBe(true);
    expect(c.startsWith('https://engage.example.com/c/')).toBe(true);
    expect(links.readPreferences(token(p))).toEqual(contact);
    expect(links.readConfirm(token(c))).toEqual({ ...contact, topic: 'news', issuedAt: 1000 });
    expect(links.readUnsubscribe(token(u))).toEqual({ ...contact, topic: 'news' });
    for (const t of [token(c), token(u)]) expect(links.readPreferences(t)).toBeNull();
    for (const t of [token(p), token(u)]) expect(links.readConfirm(t)).toBeNull();
    for (const t of [token(p), token(c)]) expect(links.readUnsubscribe(t)).toBeNull();
  });

  it('refuses a token signed by another key or edited', () => {
    const other = new LinkSigner(randomBytes(32), () => 'https://engage.example.com');
    expect(links.readPreferences(token(other.preferencesUrl(contact)))).toBeNull();
    const t = token(links.preferencesUrl(contact));
    const [body, mac] = t.split('.') as [string, string];
    const edited = Buffer.from(Buffer.from(body, 'base64url').toString().replace('ann@', 'bob@')).toString(
      'base64url',
    );
    expect(links.readPreferences(`${edited}.${mac}`)).toBeNull();
  });
});
