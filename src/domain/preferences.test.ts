import { describe, expect, it } from 'vitest';
import {
  CONFIRM_TTL_MS,
  confirmExpired,
  pageLanguage,
  preferenceChanges,
  receives,
  topicLabel,
  topicsOf,
  type Topic,
} from './preferences.js';
import type { SubscriptionState } from './subscriptions.js';

const T = Date.UTC(2026, 10, 30);
const news: Topic = {
  id: 'news',
  requiresOptIn: true,
  labels: { en: { name: 'News', description: 'Weekly' }, 'ja-JP': { name: 'ニュース', description: '' } },
};
const sales: Topic = {
  id: 'sales',
  requiresOptIn: false,
  labels: { ja: { name: 'セール', description: '' } },
};
const st = (topic: string, status: SubscriptionState['status'], at = T): SubscriptionState => ({
  topic,
  status,
  source: 'api',
  at,
});
const contact = { channel: 'email', address: 'ann@example.com' };

describe('preference centre logic', () => {
  it('picks the page language from ?lang=, then Accept-Language by q-value, else English', () => {
    expect(pageLanguage('ja', 'en')).toBe('ja');
    expect(pageLanguage('fr', 'ja-JP,en;q=0.9')).toBe('ja');
    expect(pageLanguage(undefined, 'fr-FR, en;q=0.4, ja;q=0.8')).toBe('ja');
    expect(pageLanguage(undefined, 'ja;q=0, en-GB')).toBe('en');
    expect(pageLanguage(undefined, 'de')).toBe('en');
    expect(pageLanguage(undefined, undefined)).toBe('en');
  });

  it('names a topic in the locale, its language, English, any, else by its id', () => {
    expect(topicLabel(news, 'ja').name).toBe('ニュース');
    expect(topicLabel(news, 'en-US').name).toBe('News');
    expect(topicLabel(news, 'fr').name).toBe('News');
    expect(topicLabel(sales, 'en').name).toBe('セール');
    expect(topicLabel({ ...sales, labels: {} }, 'en')).toEqual({ name: 'sales', description: '' });
  });

  it('reads stored topics, and anything unreadable as none', () => {
    expect(
      topicsOf({ topics: [{ id: 'news', requires_opt_in: true, labels: { en: { name: 'N' } } }] }),
    ).toEqual([{ id: 'news', requiresOptIn: true, labels: { en: { name: 'N', description: '' } } }]);
    expect(topicsOf(null)).toEqual([]);
    expect(topicsOf({ topics: 'x' })).toEqual([]);
  });

  it('shows opt-in topics off until subscribed and opt-out topics on until unsubscribed', () => {
    expect(receives(news, [])).toBe(false);
    expect(receives(news, [st('news', 'pending')])).toBe(false);
    expect(receives(news, [st('news', 'subscribed')])).toBe(true);
    expect(receives(sales, [])).toBe(true);
    expect(receives(sales, [st('*', 'unsubscribed')])).toBe(false);
  });

  it('records every topic from the form; everything unticks all; a lifted opt-out of everything is recorded', () => {
    const form = (ticked: string[], everything = false) => ({ ticked: new Set(ticked), everything });
    const statusOf = (changes: { topic: string; status: string }[]) =>
      Object.fromEntries(changes.map((c) => [c.topic, c.status]));
    expect(statusOf(preferenceChanges([news, sales], [], form(['news']), contact, T))).toEqual({
      news: 'subscribed',
      sales: 'unsubscribed',
    });
    expect(statusOf(preferenceChanges([news, sales], [], form(['news'], true), contact, T))).toEqual({
      news: 'unsubscribed',
      sales: 'unsubscribed',
      '*': 'unsubscribed',
    });
    const lifted = preferenceChanges([sales], [st('*', 'unsubscribed')], form(['sales']), contact, T + 1);
    expect(lifted).toContainEqual({
      ...contact,
      topic: '*',
      status: 'subscribed',
      source: 'preference-centre',
      at: T + 1,
    });
    expect(lifted.every((c) => c.source === 'preference-centre' && c.at === T + 1)).toBe(true);
  });

  it('lets a confirmation link work for 7 days from its issue', () => {
    expect(confirmExpired(T, T)).toBe(false);
    expect(confirmExpired(T, T + CONFIRM_TTL_MS)).toBe(false);
    expect(confirmExpired(T, T + CONFIRM_TTL_MS + 1)).toBe(true);
    // Issued in the future (another server's clock a little ahead is fine, far ahead is not).
    expect(confirmExpired(T + 1000, T)).toBe(false);
    expect(confirmExpired(T + 3_600_000, T)).toBe(true);
  });
});
