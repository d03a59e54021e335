/**
 * The event model shared by every layer: a Segment-spec message after validation and normalisation.
 * Times are epoch milliseconds; the stored `payload` keeps the message as the client sent it, with
 * the normalised fields (messageId, timestamp, receivedAt, ...) filled in.
 */
export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type JsonObject = Record<string, unknown>;

export interface NormalizedEvent {
  readonly messageId: string;
  readonly type: EventType;
  /** `event` for track, `name` for page/screen, null otherwise. */
  readonly name: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  /** alias only: the id being linked to `userId`. */
  readonly previousId: string | null;
  /** group only. */
  readonly groupId: string | null;
  /** identify/group traits (null for other calls). */
  readonly traits: JsonObject | null;
  readonly context: JsonObject;
  /** Event time after clock-skew correction (see docs/ingestion.md). */
  readonly timestamp: number;
  readonly receivedAt: number;
  /** The full message as stored, JSON-encoded once at the edge. */
  readonly payload: string;
}

/** An event as read back from the store. */
export interface StoredEvent {
  readonly id: string;
  readonly profileId: string;
  readonly messageId: string;
  readonly type: EventType;
  readonly name: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly timestamp: number;
  readonly receivedAt: number;
  readonly payload: JsonObject;
}
