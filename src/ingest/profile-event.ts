import type { JsonObject, NormalizedEvent } from '../domain/event.js';
import type { ProfileView } from '../store/store.js';

/**
 * An event Kizuna itself records on a known profile (a journey's profile update, a survey answer),
 * addressed so that ingestion resolves it to that profile: by its user id, else an anonymous id,
 * else its e-mail address or phone number (as traits for identify, context.traits for track). Null
 * when the profile has none of these.
 */
export function profileEvent(
  view: ProfileView,
  what: { type: 'identify'; traits: JsonObject } | { type: 'track'; event: string; properties: JsonObject },
  meta: { messageId: string; library: string; now: number },
): NormalizedEvent | null {
  const find = (kind: string) => view.identities.find((i) => i.kind === kind)?.value ?? null;
  const userId = view.userId;
  const anonymousId = userId === null ? find('anonymous_id') : null;
  const contact: JsonObject = {};
  if (userId === null && anonymousId === null) {
    const email = find('email');
    const phone = find('phone');
    if (email !== null) contact['email'] = email;
    else if (phone !== null) contact['phone'] = phone;
    else return null;
  }
  const traits = what.type === 'identify' ? { ...what.traits, ...contact } : null;
  const context: JsonObject = {
    library: { name: meta.library },
    ...(what.type === 'track' && Object.keys(contact).length > 0 && { traits: contact }),
  };
  const message = {
    type: what.type,
    messageId: meta.messageId,
    userId,
    anonymousId,
    ...(what.type === 'identify' ? { traits } : { event: what.event, properties: what.properties }),
    context,
    timestamp: new Date(meta.now).toISOString(),
  };
  return {
    messageId: meta.messageId,
    type: what.type,
    name: what.type === 'track' ? what.event : null,
    userId,
    anonymousId,
    previousId: null,
    groupId: null,
    traits,
    context,
    timestamp: meta.now,
    receivedAt: meta.now,
    payload: JSON.stringify(message),
  };
}
