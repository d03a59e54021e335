import { describe, expect, it } from 'vitest';
import { unsubscribedReason, type SubscriptionState } from './subscriptions.js';

const T = Date.UTC(2026, 10, 30);
const st = (topic: string, status: 'subscribed' | 'unsubscribed', at: number): SubscriptionState => ({
  topic,
  status,
  source: 'api',
  at,
});

describe('subscription states', () => {
  it('lets a message through with no state, or when its topic was re-subscribed after an opt-out', () => {
    expect(unsubscribedReason('marketing', [])).toBeNull();
    expect(unsubscribedReason('news', [st('marketing', 'unsubscribed', T)])).toBeNull();
    expect(
      unsubscribedReason('news', [st('*', 'unsubscribed', T), st('news', 'subscribed', T + 1)]),
    ).toBeNull();
  });

  it('stops a message whose topic, or everything, was opted out of last', () => {
    expect(unsubscribedReason('news', [st('news', 'unsubscribed', T)])).toBe(
      'unsubscribed from "news" (api, 2026-11-30T00:00:00.000Z)',
    );
    expect(unsubscribedReason('news', [st('news', 'subscribed', T), st('*', 'unsubscribed', T + 1)])).toBe(
      'unsubscribed from everything (api, 2026-11-30T00:00:00.001Z)',
    );
  });

  it('never stops a transactional message', () => {
    expect(unsubscribedReason('transactional', [st('*', 'unsubscribed', T)])).toBeNull();
  });
});
