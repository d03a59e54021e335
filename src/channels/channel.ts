/**
 * The channel port (docs/architecture.md): every provider answers a send with a value, never by
 * throwing for an expected failure. `retryable` tells the delivery pipeline whether trying again later
 * can succeed (a timeout, a 5xx, a 429) or not (a 4xx, a blocked address, a malformed recipient), and
 * `gone` whether the recipient itself is dead, so that nothing is sent to it again.
 */
export type SendResult =
  | { readonly ok: true; readonly status?: number }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      readonly reason: string;
      /**
       * The recipient will never take a message: a mailbox that does not exist (a hard bounce at
       * send time), a number or user the provider says is invalid. The address is suppressed.
       */
      readonly gone?: boolean;
    };

export interface ChannelProvider<M> {
  /** the channel name journeys and templates use (`webhook`, `email`, ...) */
  readonly channel: string;
  send(message: M): Promise<SendResult>;
}
