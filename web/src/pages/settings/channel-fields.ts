import type { MessageKey } from '../../locales/en.js';

/**
 * What each provider's configuration holds, as the form shows it: the server's schemas
 * (src/engine/delivery/providers.ts, docs/channels.md) field by field, with the input that fits each.
 * The server stays the judge: its rules come back under the field they name.
 */
export interface FieldSpec {
  /** the key under `settings` or `secrets` */
  name: string;
  label: MessageKey;
  kind: 'text' | 'url' | 'email' | 'number' | 'checkbox' | 'pem';
  /** the server refuses the configuration without it (for a credential: until one is stored) */
  required?: boolean;
  /** a help line under the field */
  help?: MessageKey;
  placeholder?: string;
  min?: number;
  max?: number;
  /** what the server assumes when the field is left empty */
  default?: string | number | boolean;
  /** shown, never sent: the server derives it (the VAPID public key) */
  readOnly?: boolean;
}

export interface ProviderForm {
  settings: FieldSpec[];
  /** credentials: written only, never shown again */
  secrets: FieldSpec[];
}

const timeout = (ms: number): FieldSpec => ({
  name: 'timeout_ms',
  label: 'channels.f.timeout',
  kind: 'number',
  min: 1000,
  max: 120_000,
  default: ms,
});
const rate: FieldSpec = {
  name: 'rate_per_second',
  label: 'channels.f.rate',
  kind: 'number',
  min: 0,
  max: 100_000,
  help: 'channels.f.rateHelp',
};
const origin = (example: string): FieldSpec => ({
  name: 'base_url',
  label: 'channels.f.baseUrl',
  kind: 'url',
  placeholder: example,
  help: 'channels.f.baseUrlHelp',
});
const pem = (help: MessageKey, required: boolean): FieldSpec => ({
  name: 'private_key',
  label: 'channels.f.privateKey',
  kind: 'pem',
  required,
  help,
  placeholder: '-----BEGIN PRIVATE KEY-----',
});

/** channel → provider → its form */
export const PROVIDER_FORMS: Record<string, Record<string, ProviderForm>> = {
  email: {
    smtp: {
      settings: [
        {
          name: 'host',
          label: 'channels.f.host',
          kind: 'text',
          required: true,
          placeholder: 'smtp.example.com',
        },
        { name: 'port', label: 'channels.f.port', kind: 'number', min: 1, max: 65535, default: 587 },
        { name: 'secure', label: 'channels.f.secure', kind: 'checkbox', default: false },
        { name: 'require_tls', label: 'channels.f.requireTls', kind: 'checkbox', default: false },
        {
          name: 'from',
          label: 'channels.f.mailFrom',
          kind: 'text',
          required: true,
          placeholder: 'Shop <news@shop.example>',
        },
        { name: 'reply_to', label: 'channels.f.replyTo', kind: 'text', placeholder: 'support@shop.example' },
        { name: 'pool_size', label: 'channels.f.poolSize', kind: 'number', min: 1, max: 50, default: 5 },
        timeout(30_000),
        rate,
        { name: 'track_opens', label: 'channels.f.trackOpens', kind: 'checkbox', default: true },
        { name: 'track_clicks', label: 'channels.f.trackClicks', kind: 'checkbox', default: true },
      ],
      secrets: [
        { name: 'username', label: 'channels.f.username', kind: 'text' },
        { name: 'password', label: 'channels.f.password', kind: 'text' },
      ],
    },
  },
  sms: {
    twilio: {
      settings: [
        { name: 'account_sid', label: 'channels.f.accountSid', kind: 'text', required: true },
        {
          name: 'from',
          label: 'channels.f.smsFrom',
          kind: 'text',
          required: true,
          placeholder: '+819012345678',
          help: 'channels.f.smsFromHelp',
        },
        origin('https://api.twilio.com'),
        timeout(10_000),
        rate,
      ],
      secrets: [{ name: 'auth_token', label: 'channels.f.authToken', kind: 'text', required: true }],
    },
  },
  line: {
    'messaging-api': {
      settings: [origin('https://api.line.me'), timeout(10_000), rate],
      secrets: [
        { name: 'channel_access_token', label: 'channels.f.lineToken', kind: 'text', required: true },
      ],
    },
  },
  push: {
    fcm: {
      settings: [
        { name: 'project_id', label: 'channels.f.projectId', kind: 'text', required: true },
        { name: 'client_email', label: 'channels.f.clientEmail', kind: 'email', required: true },
        {
          name: 'token_uri',
          label: 'channels.f.tokenUri',
          kind: 'url',
          placeholder: 'https://oauth2.googleapis.com/token',
        },
        origin('https://fcm.googleapis.com'),
        timeout(10_000),
        rate,
      ],
      secrets: [pem('channels.f.fcmKeyHelp', true)],
    },
    apns: {
      settings: [
        {
          name: 'team_id',
          label: 'channels.f.teamId',
          kind: 'text',
          required: true,
          placeholder: 'ABCDE12345',
        },
        {
          name: 'key_id',
          label: 'channels.f.keyId',
          kind: 'text',
          required: true,
          placeholder: 'KEY1234567',
        },
        {
          name: 'bundle_id',
          label: 'channels.f.bundleId',
          kind: 'text',
          required: true,
          placeholder: 'com.shop.app',
        },
        origin('https://api.push.apple.com'),
        timeout(10_000),
        rate,
      ],
      secrets: [pem('channels.f.apnsKeyHelp', true)],
    },
  },
  web_push: {
    vapid: {
      settings: [
        {
          name: 'subject',
          label: 'channels.f.subject',
          kind: 'text',
          required: true,
          placeholder: 'mailto:ops@shop.example',
        },
        {
          name: 'ttl_seconds',
          label: 'channels.f.ttl',
          kind: 'number',
          min: 0,
          max: 2_419_200,
          default: 86_400,
        },
        timeout(10_000),
        rate,
        { name: 'allow_insecure', label: 'channels.f.allowInsecure', kind: 'checkbox', default: false },
        { name: 'public_key', label: 'channels.f.publicKey', kind: 'text', readOnly: true },
      ],
      secrets: [pem('channels.f.vapidKeyHelp', false)],
    },
  },
  webhook: {
    webhook: {
      settings: [
        {
          name: 'allow_private_network',
          label: 'channels.f.allowPrivate',
          kind: 'checkbox',
          default: false,
        },
        rate,
      ],
      secrets: [
        {
          name: 'signing_secret',
          label: 'channels.f.signingSecret',
          kind: 'text',
          help: 'channels.f.signingSecretHelp',
        },
      ],
    },
  },
};

/** The form's text for a stored value (numbers and booleans as the inputs hold them). */
export function formValue(spec: FieldSpec, stored: unknown): string | boolean {
  if (spec.kind === 'checkbox') return typeof stored === 'boolean' ? stored : spec.default === true;
  if (stored === null || stored === undefined) return '';
  return typeof stored === 'string' ? stored : JSON.stringify(stored);
}

/**
 * The settings to send: numbers as numbers, booleans as booleans; an empty field is left out so the
 * server's default applies (for the optional e-mail reply-to and the rate limit that default is none).
 */
export function settingsBody(
  specs: readonly FieldSpec[],
  values: Record<string, string | boolean>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    if (spec.readOnly) continue;
    const v = values[spec.name];
    if (spec.kind === 'checkbox') {
      out[spec.name] = v === true;
      continue;
    }
    if (typeof v !== 'string' || v.trim() === '') continue;
    // A number the browser could not read goes as the text, so the server names the field.
    out[spec.name] = spec.kind === 'number' && Number.isFinite(Number(v)) ? Number(v) : v.trim();
  }
  return out;
}

/** Where a test send goes, per channel (POST /api/v1/channels/:channel/test). */
export const TEST_TARGET: Record<
  string,
  { field: string; label: MessageKey; type: string; placeholder: string }
> = {
  email: { field: 'to', label: 'channels.test.email', type: 'email', placeholder: 'ops@shop.example' },
  sms: { field: 'to', label: 'channels.test.phone', type: 'tel', placeholder: '+819012345678' },
  line: {
    field: 'to',
    label: 'channels.test.line',
    type: 'text',
    placeholder: 'U0123456789abcdef0123456789abcdef',
  },
  push: { field: 'profile_id', label: 'channels.test.profile', type: 'text', placeholder: 'p_…' },
  web_push: { field: 'profile_id', label: 'channels.test.profile', type: 'text', placeholder: 'p_…' },
  webhook: {
    field: 'url',
    label: 'channels.test.url',
    type: 'url',
    placeholder: 'https://hooks.shop.example/kizuna',
  },
};

/** Mobile push can also go to one device token typed in instead of a customer's devices. */
export const PUSH_TOKEN_TARGET: { field: string; label: MessageKey; type: string; placeholder: string } = {
  field: 'token',
  label: 'channels.test.token',
  type: 'text',
  placeholder: 'FCM registration token or APNs device token',
};
