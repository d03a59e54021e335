/**
 * Whether a message may go to a contact point, given the subscription states stored for it: the
 * newest of the message topic's own state and the "everything" (`*`) state decides (the topic's own
 * on a tie). A topic that requires an opt-in sends only when that state is `subscribed`; others send
 * unless it is `unsubscribed`. A `pending` state (a double opt-in not yet confirmed) is not a
 * subscription and decides nothing. Transactional messages (receipts, password resets) do not ask.
 */
export interface SubscriptionState {
  readonly topic: string;
  readonly status: 'subscribed' | 'unsubscribed' | 'pending';
  readonly source: string;
  readonly at: number;
}

export const TRANSACTIONAL = 'transactional';

/** What a topic's name may be (templates, caps, subscriptions, declared topics all share it). */
export const TOPIC_NAME = /^[a-z0-9_-]{1,50}$/;
export const TOPIC_RULE = 'must be 1–50 lower-case letters, digits, _ or -';

const when = (s: SubscriptionState) => `${s.source}, ${new Date(s.at).toISOString()}`;

/** Null when the message may be sent; otherwise why not. */
export function unsubscribedReason(
  topic: string,
  states: readonly SubscriptionState[],
  requiresOptIn = false,
): string | null {
  if (topic === TRANSACTIONAL) return null;
  let latest: SubscriptionState | null = null;
  let pending: SubscriptionState | null = null;
  for (const s of states) {
    if (s.topic !== topic && s.topic !== '*') continue;
    if (s.status === 'pending') {
      if (s.topic === topic) pending = s;
      continue;
    }
    if (!latest || s.at > latest.at || (s.at === latest.at && s.topic === topic)) latest = s;
  }
  if (latest?.status === 'unsubscribed') {
    const what = latest.topic === '*' ? 'everything' : `"${latest.topic}"`;
    return `unsubscribed from ${what} (${when(latest)})`;
  }
  if (!requiresOptIn || latest?.status === 'subscribed') return null;
  return pending
    ? `"${topic}" requires an opt-in: double opt-in not confirmed yet (${when(pending)})`
    : `"${topic}" requires an opt-in: not subscribed`;
}

/** Why a suppressed contact point receives nothing, for the message's record. */
export function suppressionReason(s: {
  readonly reason: string;
  readonly detail: string | null;
  readonly source: string;
  readonly at: number;
}): string {
  const why = { hard_bounce: 'hard-bounced', complaint: 'complained', manual: 'suppressed by an admin' }[
    s.reason
  ];
  const detail = s.detail ? `: ${s.detail}` : '';
  return `suppressed: ${why ?? s.reason} (${s.source}, ${new Date(s.at).toISOString()})${detail}`;
}
