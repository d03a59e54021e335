import { describe, expect, it } from 'vitest';
import {
  consentReason,
  currentConsents,
  parsePrivacySettings,
  profilingAllowed,
  retentionCutoff,
  DEFAULT_PRIVACY,
  type ConsentEntry,
} from './consent.js';

const T = Date.UTC(2026, 10, 1);
const e = (over: Partial<ConsentEntry>): ConsentEntry => ({
  profileId: 'p1',
  purpose: 'push',
  status: 'granted',
  source: 'api',
  method: 'checkbox',
  textVersion: null,
  topic: null,
  at: T,
  ...over,
});

describe('consent rules', () => {
  it('takes the newest whole-purpose entry as the state; topic entries are history', () => {
    const now = currentConsents([
      e({ status: 'withdrawn', at: T }),
      e({ status: 'granted', at: T + 1 }),
      e({ status: 'withdrawn', at: T + 2, topic: 'news' }),
    ]);
    expect(now.get('push')?.status).toBe('granted');
  });

  it('stops marketing push after a withdrawal, never transactional, and leaves e-mail to subscriptions', () => {
    const ledger = [e({ status: 'withdrawn', at: T, source: 'sdk' })];
    expect(consentReason('push', 'promo', ledger)).toBe(
      'consent withdrawn: push (sdk, 2026-11-01T00:00:00.000Z)',
    );
    expect(consentReason('web_push', 'promo', ledger)).not.toBeNull();
    expect(consentReason('push', 'transactional', ledger)).toBeNull();
    expect(consentReason('line', 'promo', ledger)).toBeNull();
    expect(
      consentReason('email', 'promo', [e({ purpose: 'email_marketing', status: 'withdrawn' })]),
    ).toBeNull();
    // A push subscription change is decided by the subscription rules, not twice.
    expect(consentReason('push', 'promo', [e({ status: 'withdrawn', method: 'subscription' })])).toBeNull();
    expect(consentReason('push', 'promo', [])).toBeNull();
  });

  it('allows profiling unless withdrawn, or only when granted where the workspace requires it', () => {
    const granted = currentConsents([e({ purpose: 'profiling' })]);
    const withdrawn = currentConsents([e({ purpose: 'profiling', status: 'withdrawn' })]);
    const none = currentConsents([]);
    expect([granted, withdrawn, none].map((c) => profilingAllowed(DEFAULT_PRIVACY, c))).toEqual([
      true,
      false,
      true,
    ]);
    const required = { ...DEFAULT_PRIVACY, profilingRequired: true };
    expect([granted, withdrawn, none].map((c) => profilingAllowed(required, c))).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('validates privacy settings by field and computes retention in calendar months', () => {
    expect(parsePrivacySettings({ purposes: ['push', 'x', 'x'], profiling_required: 'yes' })).toEqual({
      ok: false,
      issues: [
        { field: 'purposes[0]', rule: 'must not repeat a purpose' },
        { field: 'purposes[2]', rule: 'must not repeat a purpose' },
        { field: 'profiling_required', rule: 'must be true or false' },
      ],
    });
    expect(retentionCutoff(Date.UTC(2026, 2, 31), 1)).toBe(Date.UTC(2026, 1, 28));
    expect(retentionCutoff(Date.UTC(2026, 10, 15, 9), 13)).toBe(Date.UTC(2025, 9, 15, 9));
  });
});
