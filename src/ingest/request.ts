import type { EventType, JsonObject, NormalizedEvent } from '../domain/event.js';
import { ValidationError, type FieldIssue } from '../errors.js';
import { LIMITS } from './limits.js';
import { normalizeMessage, parseIsoDate, type Envelope } from './message.js';

/**
 * A whole ingestion request → its events, all or nothing: one bad message rejects the request, so a
 * client never has to work out which half of a batch was stored.
 */
export function eventsOfRequest(
  body: unknown,
  endpoint: EventType | 'batch',
  env: Omit<Envelope, 'sentAt' | 'context'>,
): NormalizedEvent[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: 'body', rule: 'must be a JSON object' }]);
  }
  const b = body as JsonObject;
  const sentAt = envelopeSentAt(b['sentAt']);
  if (endpoint !== 'batch') {
    const r = normalizeMessage(b, '', endpoint, { ...env, sentAt: null, context: null });
    if (!r.ok) throw new ValidationError(r.issues);
    return [r.event];
  }
  const batch = b['batch'];
  if (!Array.isArray(batch))
    throw new ValidationError([{ field: 'batch', rule: 'is required and must be an array of messages' }]);
  if (batch.length === 0)
    throw new ValidationError([{ field: 'batch', rule: 'must contain at least one message' }]);
  const context = b['context'];
  const ctx =
    typeof context === 'object' && context !== null && !Array.isArray(context)
      ? (context as JsonObject)
      : null;
  const envelope: Envelope = { ...env, sentAt, context: ctx };
  const events: NormalizedEvent[] = [];
  const issues: FieldIssue[] = [];
  for (let i = 0; i < batch.length && issues.length < LIMITS.reportedIssues; i++) {
    const r = normalizeMessage(batch[i], `batch[${i}]`, null, envelope);
    if (r.ok) events.push(r.event);
    else issues.push(...r.issues);
  }
  if (issues.length > 0) throw new ValidationError(issues.slice(0, LIMITS.reportedIssues));
  return events;
}

function envelopeSentAt(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const ms = typeof v === 'string' ? parseIsoDate(v) : null;
  if (ms === null)
    throw new ValidationError([{ field: 'sentAt', rule: 'must be an ISO 8601 date-time string' }]);
  return ms;
}

/** The write key of a request: HTTP Basic user name (Segment's way), else `writeKey` in the body. */
export function writeKeyOf(authorization: string | undefined, body: unknown): string | null {
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    if (user) return user;
  }
  if (typeof body === 'object' && body !== null && typeof (body as JsonObject)['writeKey'] === 'string') {
    return (body as JsonObject)['writeKey'] as string;
  }
  return null;
}
