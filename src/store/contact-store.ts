/**
 * Where messages may go and what came back (docs/channels.md): the suppression list, customers'
 * push devices, and the states messages reach after they were sent (delivered, opened, clicked,
 * bounced, complained), which arrive from tracking links and bounce or complaint reports.
 */

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual';

export interface Suppression {
  readonly channel: string;
  /** the contact point, as messages address it (e-mail lower-cased, E.164 phone, device token) */
  readonly address: string;
  readonly reason: SuppressionReason;
  /** what the bounce or complaint said, or the admin's note */
  readonly detail: string | null;
  /** where it came from (`dsn`, `arf`, `api`, `bounce-webhook`, ...) */
  readonly source: string;
  readonly at: number;
}

export type DeviceKind = 'ios' | 'android' | 'web';

export interface Device {
  /** the FCM or APNs token, or the web push endpoint URL */
  readonly token: string;
  readonly profileId: string;
  readonly kind: DeviceKind;
  /** a web push subscription (`{endpoint, keys: {p256dh, auth}}`); null for mobile tokens */
  readonly subscription: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A state a message reached after it went out. */
export type AfterSendStatus = 'delivered' | 'opened' | 'clicked' | 'bounced' | 'complained' | 'unsubscribed';

export interface AfterSendState {
  readonly workspaceId: string;
  readonly key: string;
  readonly status: AfterSendStatus;
  readonly at: number;
  /** the clicked URL, the bounce's status and diagnostic, ... */
  readonly detail: string | null;
}

export interface ContactStore {
  /** Suppresses a contact point, replacing an earlier suppression of it. */
  putSuppression(ws: string, s: Suppression): Promise<void>;
  /** False when it was not suppressed. */
  deleteSuppression(ws: string, channel: string, address: string): Promise<boolean>;
  /** The suppressions of these addresses on a channel. */
  findSuppressions(ws: string, channel: string, addresses: readonly string[]): Promise<Suppression[]>;
  /**
   * A page of the workspace's suppressions ordered by (channel, address), after the given position;
   * `channel` narrows to one channel. `limit` ≤ 1000.
   */
  listSuppressions(
    ws: string,
    q: { channel: string | null; after: { channel: string; address: string } | null; limit: number },
  ): Promise<Suppression[]>;

  /**
   * Records devices, each moving to its profile when another profile held the token: the report with
   * the latest `updatedAt` wins, so a late, older event never moves a token back; `createdAt` is kept
   * for a token already known.
   */
  putDevices(ws: string, devices: readonly Device[]): Promise<void>;
  /** The devices of these profiles, by profile id. */
  listDevices(ws: string, profileIds: readonly string[]): Promise<Map<string, Device[]>>;
  /** Removes a token (a provider said it is no longer valid); false when there was none. */
  deleteDevice(ws: string, token: string): Promise<boolean>;

  /**
   * Records what happened to sent messages. Each becomes a state event of its message, once: the same
   * status with the same detail is not recorded twice (a second open, a second click on one link).
   * The message's status moves forward only (sent → delivered → opened → clicked; bounced from sent
   * or delivered); a complaint is recorded without changing it. Unknown messages are ignored. Returns
   * how many were recorded.
   */
  recordAfterSend(states: readonly AfterSendState[], now: number): Promise<number>;
}
