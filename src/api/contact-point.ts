/**
 * Contact points as the admin API takes them (subscriptions, suppressions): checked per channel and
 * written the way the composer writes message recipients (e-mail lower-cased), so what the API stores
 * matches what the dispatcher looks up.
 */
import { isEmailAddress } from '../channels/email/smtp.js';
import { isLineUserId } from '../channels/line/messaging-api.js';
import { isPhoneNumber } from '../channels/sms/twilio.js';

/** The address as messages carry it, or the rule it breaks. */
export function contactPoint(channel: string, address: string): { address: string } | { rule: string } {
  if (channel === 'email') {
    const a = address.trim().toLowerCase();
    return isEmailAddress(a) ? { address: a } : { rule: 'must be an e-mail address for the email channel' };
  }
  if (channel === 'sms')
    return isPhoneNumber(address)
      ? { address }
      : { rule: 'must be a phone number in E.164 (+819012345678) for the sms channel' };
  if (channel === 'line')
    return isLineUserId(address)
      ? { address }
      : { rule: 'must be a LINE user id (U + 32 hex digits) for the line channel' };
  return { address };
}
