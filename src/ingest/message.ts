import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_TYPES, type EventType, type JsonObject, type NormalizedEvent } from '../domain/event.js';
import { fieldPath, type FieldIssue } from '../errors.js';
import { LIMITS, checkJsonText } from './limits.js';

/**
 * One Segment-spec message (identify, track, page, screen, group, alias) → a NormalizedEvent, or the
 * issues that make it unacceptable. Semantics follow the Segment HTTP Tracking API; see
 * docs/ingestion.md for the timestamp rules and what Kizuna adds.
 */
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const object = z.custom<JsonObject>(isObject, { error: 'must be a JSON object' });

/** Ids may arrive as numbers from some SDKs; they are stored as strings. Empty means absent. */
const id = z
  .union([z.string(), z.number().finite()], { error: 'must be a string or a number' })
  .transform((v) => String(v).trim())
  .refine((v) => v.length <= LIMITS.idChars, { error: `must be at most ${LIMITS.idChars} characters` });

/** ISO 8601: a date, optionally a time; a date-time without an offset is read as UTC. */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const MAX_DATE = Date.UTC(9999, 11, 31);
const date = z.string({ error: 'must be an ISO 8601 date-time string' }).transform((v, ctx) => {
  const ms = parseIsoDate(v);
  if (ms === null) {
    ctx.issues.push({
      code: 'custom',
      input: v,
      message: 'must be an ISO 8601 date-time between 1970 and 9999',
    });
    return z.NEVER;
  }
  return ms;
});

/** Epoch ms of an ISO 8601 string, or null. Unlike Date.parse alone, refuses 2026-02-30 or 25:00. */
export function parseIsoDate(v: string): number | null {
  const m = ISO.exec(v);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m
    .slice(1, 7)
    .map((x) => (x === undefined ? undefined : Number(x)));
  const daysInMonth = new Date(Date.UTC(y!, mo, 0)).getUTCDate();
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth || h > 23 || mi > 59 || sec > 59) return null;
  const ms = Date.parse(m[4] !== undefined && m[7] === undefined ? `${v}Z` : v);
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_DATE ? ms : null;
}

const message = z.object({
  type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }),
  messageId: id.optional(),
  userId: id.nullish(),
  anonymousId: id.nullish(),
  previousId: id.nullish(),
  groupId: id.nullish(),
  event: z
    .string({ error: 'must be a string' })
    .max(LIMITS.idChars, { error: `must be at most ${LIMITS.idChars} characters` })
    .nullish(),
  name: z
    .string({ error: 'must be a string' })
    .max(LIMITS.idChars, { error: `must be at most ${LIMITS.idChars} characters` })
    .nullish(),
  traits: object.nullish(),
  properties: object.nullish(),
  context: object.nullish(),
  timestamp: date.nullish(),
  originalTimestamp: date.nullish(),
  sentAt: date.nullish(),
});

type Message = z.output<typeof message>;

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
/** A field quickParse leaves to the schema. */
const BAD = Symbol('bad');

function quickId(v: unknown): string | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) return BAD;
  const s = String(v).trim();
  return s.length > LIMITS.idChars ? BAD : s;
}

function quickName(v: unknown): string | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  return typeof v === 'string' && v.length <= LIMITS.idChars ? v : BAD;
}

function quickObject(v: unknown): JsonObject | null | undefined | typeof BAD {
  if (v === undefined || v === null || isObject(v)) return v;
  return BAD;
}

function quickDate(v: unknown): number | null | undefined | typeof BAD {
  if (v === undefined || v === null) return v;
  return (typeof v === 'string' ? parseIsoDate(v) : null) ?? BAD;
}

/**
 * The schema's result for a message every field of which has its plain valid form, computed without
 * the schema (about a quarter of the CPU of normalising a single event); null for anything else, which
 * then goes through the schema for its issues. For any input it accepts, it returns what
 * `message.parse` returns, field by field (absent fields as undefined; message.test.ts checks both
 * on the same inputs).
 */
export function quickParse(input: JsonObject): Message | null {
  const type = input['type'];
  if (!TYPES.has(type)) return null;
  const m = {
    type: type as EventType,
    messageId: input['messageId'] === null ? BAD : quickId(input['messageId']),
    userId: quickId(input['userId']),
    anonymousId: quickId(input['anonymousId']),
    previousId: quickId(input['previousId']),
    groupId: quickId(input['groupId']),
    event: quickName(input['event']),
    name: quickName(input['name']),
    traits: quickObject(input['traits']),
    properties: quickObject(input['properties']),
    context: quickObject(input['context']),
    timestamp: quickDate(input['timestamp']),
    originalTimestamp: quickDate(input['originalTimestamp']),
    sentAt: quickDate(input['sentAt']),
  };
  for (const k in m) if (m[k as keyof typeof m] === BAD) return null;
  return m as Message;
}

/** The schema's verdict on one message (its issues, or its parsed fields). */
export function schemaParse(input: JsonObject): ReturnType<typeof message.safeParse> {
  return message.safeParse(input);
}

/** What a batch (or the request) supplies to each of its messages. */
export interface Envelope {
  receivedAt: number;
  /** the batch's `sentAt`, used when a message has none. */
  sentAt: number | null;
  /** merged under each message's own context (the message wins key by key). */
  context: JsonObject | null;
  /** the client's address, stored as context.ip when the message does not carry one. */
  ip: string | null;
}

export type Normalized = { ok: true; event: NormalizedEvent } | { ok: false; issues: FieldIssue[] };

/**
 * Validates and normalises one message. `path` prefixes field names in issues (`batch[3]`, or the
 * empty string for a single call); `impliedType` is the endpoint's type for /v1/track etc.
 */
export function normalizeMessage(
  raw: unknown,
  path: string,
  impliedType: EventType | null,
  env: Envelope,
): Normalized {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (!isObject(raw))
    return { ok: false, issues: [{ field: path || 'body', rule: 'must be a JSON object' }] };
  const input = impliedType ? { ...raw, type: impliedType } : raw;
  const issues: FieldIssue[] = [];
  checkJsonText(input, path || 'body', issues);
  const quick = quickParse(input);
  const parsed = quick === null ? message.safeParse(input) : { success: true as const, data: quick };
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      issues.push({
        field: at(fieldPath(i.path)),
        rule: i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message,
      });
    }
  }
  if (issues.length > 0 || !parsed.success)
    return { ok: false, issues: issues.slice(0, LIMITS.reportedIssues) };
  const m = parsed.data;
  const userId = m.userId || null;
  const anonymousId = m.anonymousId || null;

  if (m.type !== 'alias' && userId === null && anonymousId === null) {
    issues.push({ field: at('userId'), rule: 'a message needs a userId or an anonymousId' });
  }
  if (m.type === 'track' && !m.event)
    issues.push({ field: at('event'), rule: 'is required for track (the event name)' });
  if (m.type === 'group' && !m.groupId) issues.push({ field: at('groupId'), rule: 'is required for group' });
  if (m.type === 'alias') {
    if (!m.previousId) issues.push({ field: at('previousId'), rule: 'is required for alias' });
    if (userId === null) issues.push({ field: at('userId'), rule: 'is required for alias' });
  }
  if (issues.length > 0) return { ok: false, issues };

  // Segment's clock-skew rule: a device's clock may be wrong, but the gap between when it made the
  // call (originalTimestamp) and when it sent it (sentAt) is right, so the event happened that long
  // before the server received it. An explicit `timestamp` is trusted as given.
  const sentAt = m.sentAt ?? env.sentAt;
  const original = m.originalTimestamp ?? null;
  const timestamp =
    m.timestamp ??
    (original !== null
      ? sentAt !== null
        ? env.receivedAt - (sentAt - original)
        : original
      : env.receivedAt);

  const context: JsonObject = env.context
    ? { ...env.context, ...(m.context ?? {}) }
    : { ...(m.context ?? {}) };
  if (context['ip'] === undefined && env.ip !== null) context['ip'] = env.ip;

  const messageId = m.messageId || `kz-${randomUUID()}`;
  const name =
    m.type === 'track'
      ? (m.event ?? null)
      : m.type === 'page' || m.type === 'screen'
        ? (m.name ?? null)
        : null;
  const traits = m.type === 'identify' || m.type === 'group' ? (m.traits ?? {}) : null;
  // Built key by key (never `delete`, which would make the object slow to serialise): the message
  // as sent, minus the write key (a secret), with the normalised fields in place.
  const stored: JsonObject = {};
  for (const key in raw) if (key !== 'writeKey') stored[key] = raw[key];
  stored['type'] = m.type;
  stored['messageId'] = messageId;
  stored['timestamp'] = new Date(timestamp).toISOString();
  stored['receivedAt'] = new Date(env.receivedAt).toISOString();
  stored['context'] = context;
  if (original !== null) stored['originalTimestamp'] = new Date(original).toISOString();
  if (sentAt !== null) stored['sentAt'] = new Date(sentAt).toISOString();
  const payload = JSON.stringify(stored);
  const bytes = Buffer.byteLength(payload);
  if (bytes > LIMITS.messageBytes) {
    return {
      ok: false,
      issues: [
        {
          field: path || 'body',
          rule: `a message must be at most 32 KB (this one is ${(bytes / 1024).toFixed(1)} KB)`,
        },
      ],
    };
  }
  return {
    ok: true,
    event: {
      messageId,
      type: m.type,
      name,
      userId,
      anonymousId,
      previousId: m.previousId || null,
      groupId: m.groupId || null,
      traits,
      context,
      timestamp,
      receivedAt: env.receivedAt,
      payload,
    },
  };
}
