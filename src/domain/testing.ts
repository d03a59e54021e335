import type { EventType, JsonObject, NormalizedEvent } from './event.js';

/** Builds a NormalizedEvent for tests of the domain and the store contract. */
export function testEvent(
  fields: Partial<Omit<NormalizedEvent, 'payload'>> & { type?: EventType; properties?: JsonObject },
): NormalizedEvent {
  const type = fields.type ?? 'track';
  const timestamp = fields.timestamp ?? Date.UTC(2026, 0, 1);
  const base = {
    messageId: fields.messageId ?? `m-${Math.random().toString(36).slice(2)}`,
    type,
    name: fields.name ?? (type === 'track' ? 'Test Event' : null),
    userId: fields.userId ?? null,
    anonymousId: fields.anonymousId ?? null,
    previousId: fields.previousId ?? null,
    groupId: fields.groupId ?? null,
    traits: fields.traits ?? null,
    context: fields.context ?? {},
    timestamp,
    receivedAt: fields.receivedAt ?? timestamp,
  };
  const payload = JSON.stringify({
    type,
    messageId: base.messageId,
    ...(base.userId !== null && { userId: base.userId }),
    ...(base.anonymousId !== null && { anonymousId: base.anonymousId }),
    ...(base.previousId !== null && { previousId: base.previousId }),
    ...(base.groupId !== null && { groupId: base.groupId }),
    ...(type === 'track' && { event: base.name }),
    ...((type === 'page' || type === 'screen') && base.name !== null && { name: base.name }),
    ...(base.traits && { traits: base.traits }),
    ...(fields.properties && { properties: fields.properties }),
    context: base.context,
    timestamp: new Date(timestamp).toISOString(),
    receivedAt: new Date(base.receivedAt).toISOString(),
  });
  return { ...base, payload };
}
