import { describe, expect, it } from 'vitest';
import { unsubscribedReason, type SubscriptionState } from './subscriptions.js';

const T = Date.UTC(2026, 10, 30);
const st = (topic: string, status: SubscriptionState['status'], at: number): SubscriptionState => ({
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

  it('sends a topic that requires an opt-in only to contact points that subscribed to it', () => {
    expect(unsubscribedReason('news', [], true)).toBe('"news" requires an opt-in: not subscribed');
    expect(unsubscribedReason('news', [st('news', 'subscribed', T)], true)).toBeNull();
    expect(
      unsubscribedReason('news', [st('news', 'subscribed', T), st('*', 'unsubscribed', T + 1)], true),
    ).toBe('unsubscribed from everything (api, 2026-11-30T00:00:00.001Z)');
    expect(unsubscribedReason('news', [st('news', 'unsubscribed', T)], true)).toBe(
      'unsubscribed from "news" (api, 2026-11-30T00:00:00.000Z)',
    );
  });

  it('counts a pending double opt-in as no subscription: it stops opt-in topics and changes nothing else', () => {
    expect(unsubscribedReason('news', [st('news', 'pending', T)], true)).toBe(
      '"news" requires an opt-in: double opt-in not confirmed yet (api, 2026-11-30T00:00:00.000Z)',
    );
    expect(unsubscribedReason('news', [st('news', 'pending', T)])).toBeNull();
    expect(unsubscribedReason('news', [st('*', 'unsubscribed', T), st('news', 'pending', T + 1)])).toBe(
      'unsubscribed from everything (api, 2026-11-30T00:00:00.000Z)',
    );
  });
});
