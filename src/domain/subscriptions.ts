/**
 * Whether a message may go to a contact point, given the subscription states stored for it: the
 * newest of the message topic's own state and the "everything" (`*`) state decides. Transactional
 * messages (receipts, password resets) do not ask.
 */
export interface SubscriptionState {
  readonly topic: string;
  readonly status: 'subscribed' | 'unsubscribed';
  readonly source: string;
  readonly at: number;
}

export const TRANSACTIONAL = 'transactional';

/** Null when the message may be sent; otherwise why not. */
export function unsubscribedReason(topic: string, states: readonly SubscriptionState[]): string | null {
  if (topic === TRANSACTIONAL) return null;
  let latest: SubscriptionState | null = null;
  for (const s of states) {
    if (s.topic !== topic && s.topic !== '*') continue;
    if (!latest || s.at > latest.at || (s.at === latest.at && s.topic === topic)) latest = s;
  }
  if (!latest || latest.status === 'subscribed') return null;
  const what = latest.topic === '*' ? 'everything' : `"${latest.topic}"`;
  return `unsubscribed from ${what} (${latest.source}, ${new Date(latest.at).toISOString()})`;
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
