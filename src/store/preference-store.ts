/**
 * The workspace's declared subscription topics (docs/channels.md#subscription-topics): one document
 * per workspace, validated by the engine (src/domain/preferences.ts) before it is stored.
 */
export interface PreferenceStore {
  /** The declared topics as stored, or null when the workspace declared none. */
  getSubscriptionTopics(ws: string): Promise<unknown>;
  /** Replaces the workspace's declared topics. */
  putSubscriptionTopics(ws: string, topics: unknown, now: number): Promise<void>;
}
