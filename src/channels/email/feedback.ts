/**
 * Reads the reports mail systems send back about Kizuna's e-mail: bounces (delivery status
 * notifications, RFC 3464, status codes RFC 3463) and complaints (abuse feedback reports, ARF,
 * RFC 5965). Both arrive as `multipart/report` (RFC 6522): a human-readable part, a
 * machine-readable part (`message/delivery-status` or `message/feedback-report`), and usually the
 * message Kizuna sent (`message/rfc822`) or just its headers (`text/rfc822-headers`), which is where
 * the `X-Kizuna-Key` header tying the report to one send is found.
 *
 * Why a small MIME splitter of our own instead of mailparser's `simpleParser`: checked against
 * mailparser 3.14.2, simpleParser is built to render a message for reading, and it loses exactly the
 * parts this job needs.
 * - By default it folds `message/delivery-status` into `text` together with the human-readable
 *   notice (only `keepDeliveryStatus: true` keeps it as an attachment).
 * - A returned `message/rfc822` part marked `Content-Disposition: inline` (several MTAs and
 *   feedback-loop senders do this) is rendered into `text` as From/To/Subject plus its body; every
 *   other header of the returned message, X-Kizuna-Key included, is gone and no attachment is left.
 * - `message/feedback-report` and `text/rfc822-headers` do come through as attachments, so the
 *   outcome would depend on how each sender happened to mark its parts.
 * A multipart/report is a flat, one-level structure and we only need header fields out of it, so
 * splitting by the top-level boundary, reading each part's header block and undoing base64 /
 * quoted-printable is a page of code with no rendering, charset guessing or attachment streaming in
 * between, and its behaviour is the same whatever disposition the sender chose.
 *
 * Bytes are handled as latin1 strings (one char per byte) so transfer decoding is exact; header
 * values are turned into text as UTF-8 at the end (RFC 6533 reports may carry UTF-8 addresses).
 */

export type BounceAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export type FeedbackReport =
  | {
      kind: 'bounce';
      messageKey: string | null;
      recipients: {
        address: string;
        action: BounceAction;
        /** RFC 3463 enhanced status code, e.g. 5.1.1 */
        status: string;
        /** action failed with a 5.x.x status: the address will not take mail; 4.x.x or delayed is soft */
        hard: boolean;
        /** the Diagnostic-Code field as written (unfolded), e.g. `smtp; 550 5.1.1 <x@y> User unknown` */
        diagnostic: string | null;
      }[];
    }
  | {
      kind: 'complaint';
      messageKey: string | null;
      /** Feedback-Type, lower-cased: abuse, fraud, virus, other, not-spam, ... */
      feedbackType: string;
      /** Original-Rcpt-To, or the To of the returned message when absent */
      recipients: string[];
    };

export type FeedbackParseResult = { ok: true; report: FeedbackReport } | { ok: false; reason: string };

/** Reports bigger than this are refused unread. */
const MAX_BYTES = 10 * 1024 * 1024;
/** The machine-readable part is a few hundred bytes a recipient; more is not a report we sent for. */
const MAX_REPORT_PART_BYTES = 1024 * 1024;
/** Header blocks are read this far and no further. */
const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;
/** A report has two or three parts; a few more are tolerated, the rest are not looked at. */
const MAX_PARTS = 16;
/** Content-Type values are read this far (a boundary is at most 70 characters). */
const MAX_CONTENT_TYPE_CHARS = 8192;
/** Kizuna sends one recipient a message; a report naming more than this is refused. */
const MAX_RECIPIENTS = 1000;
/** A key as Kizuna writes them (`msg_...` and longer ids); anything else in the header is ignored. */
const MESSAGE_KEY = /^[A-Za-z0-9_:.-]{1,512}$/;
const ACTIONS: readonly BounceAction[] = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'];
const EXPECTED =
  'expected multipart/report with report-type delivery-status (RFC 3464 bounce) or feedback-report (RFC 5965 complaint)';

/** RFC 6533 (SMTPUTF8) reports use the message/global-* variants. */
const STATUS_PARTS = new Set(['message/delivery-status', 'message/global-delivery-status']);
const RETURNED_PARTS = new Set([
  'message/rfc822',
  'text/rfc822-headers',
  'message/global',
  'message/global-headers',
]);

/**
 * Parses a bounce (DSN) or complaint (ARF) report. Does not throw for bad input: anything that is
 * not one of the two comes back as `ok: false` with the reason.
 */
export function parseFeedbackReport(raw: Buffer | string): Promise<FeedbackParseResult> {
  // nothing here waits on I/O; the promise keeps the signature of a parser that might stream
  return Promise.resolve().then(() => parse(raw));
}

function parse(raw: Buffer | string): FeedbackParseResult {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.length;
  if (size > MAX_BYTES) {
    return { ok: false, reason: `the report is ${size} bytes, over the ${MAX_BYTES}-byte (10 MB) limit` };
  }
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  let text = normalizeNewlines(bytes.toString('latin1'));
  // a UTF-8 byte-order mark, or the "From sender date" separator line of an mbox / pipe delivery
  text = text.replace(/^\u00EF\u00BB\u00BF/, '').replace(/^From [^\n]*\n/, '');
  if (text.trim() === '') return { ok: false, reason: `empty input; ${EXPECTED}` };

  const top = splitEntity(text);
  const ct = parseContentType(firstField(top.headers, 'content-type'));
  if (ct === null) return { ok: false, reason: `no Content-Type header; ${EXPECTED}` };
  if (ct.type !== 'multipart/report') return { ok: false, reason: `${EXPECTED}, got ${ct.type}` };
  const boundary = ct.params.get('boundary');
  if (boundary === undefined || boundary === '') {
    return { ok: false, reason: 'multipart/report without a boundary parameter' };
  }
  const parts = splitMultipart(top.body, boundary).map(decodePart);

  let reportType = ct.params.get('report-type')?.toLowerCase();
  if (reportType === undefined) {
    // the parameter is required, but the machine-readable part says the same
    if (parts.some((p) => STATUS_PARTS.has(p.type))) reportType = 'delivery-status';
    else if (parts.some((p) => p.type === 'message/feedback-report')) reportType = 'feedback-report';
  }
  const returned = parts.find((p) => RETURNED_PARTS.has(p.type));
  const returnedHeaders = returned === undefined ? [] : splitEntity(returned.body, true).headers;
  const messageKey = keyFrom(returnedHeaders);

  if (reportType === 'delivery-status' || reportType === 'global-delivery-status') {
    const status = parts.find((p) => STATUS_PARTS.has(p.type));
    if (status === undefined) {
      return { ok: false, reason: 'delivery-status report without a message/delivery-status part' };
    }
    if (status.body.length > MAX_REPORT_PART_BYTES) {
      return { ok: false, reason: `the message/delivery-status part is over ${MAX_REPORT_PART_BYTES} bytes` };
    }
    const recipients = parseDeliveryStatus(status.body);
    if (recipients.length === 0) {
      return {
        ok: false,
        reason:
          'the message/delivery-status part holds no per-recipient fields (Final-Recipient, Action, Status)',
      };
    }
    if (recipients.length > MAX_RECIPIENTS) {
      return {
        ok: false,
        reason: `the report names ${recipients.length} recipients, over ${MAX_RECIPIENTS}`,
      };
    }
    return { ok: true, report: { kind: 'bounce', messageKey, recipients } };
  }

  if (reportType === 'feedback-report') {
    const feedback = parts.find((p) => p.type === 'message/feedback-report');
    if (feedback === undefined) {
      return { ok: false, reason: 'feedback-report without a message/feedback-report part' };
    }
    if (feedback.body.length > MAX_REPORT_PART_BYTES) {
      return { ok: false, reason: `the message/feedback-report part is over ${MAX_REPORT_PART_BYTES} bytes` };
    }
    const fields = parseFields(feedback.body.split('\n').filter((l) => !isBlank(l)));
    const feedbackType = /^[A-Za-z0-9_.-]+/.exec(firstField(fields, 'feedback-type') ?? '')?.[0];
    if (feedbackType === undefined) {
      return { ok: false, reason: 'the message/feedback-report part has no Feedback-Type field' };
    }
    let recipients = allFields(fields, 'original-rcpt-to')
      .map(bareAddress)
      .filter((a) => a.includes('@'));
    if (recipients.length === 0) recipients = allFields(returnedHeaders, 'to').flatMap(addressList);
    recipients = [...new Set(recipients)];
    if (recipients.length > MAX_RECIPIENTS) {
      return {
        ok: false,
        reason: `the report names ${recipients.length} recipients, over ${MAX_RECIPIENTS}`,
      };
    }
    return {
      ok: true,
      report: { kind: 'complaint', messageKey, feedbackType: feedbackType.toLowerCase(), recipients },
    };
  }

  return { ok: false, reason: `${EXPECTED}, got report-type ${reportType ?? '(none)'}` };
}

// ---------------------------------------------------------------------------------------------
// delivery status (RFC 3464 section 2)

type BounceRecipient = Extract<FeedbackReport, { kind: 'bounce' }>['recipients'][number];

/**
 * The body is field groups separated by blank lines: first the per-message fields (Reporting-MTA,
 * Arrival-Date, ...), then one group per recipient. A group counts as a recipient's when it names
 * one, so a report that leaves out the per-message group, or adds extra blank lines, still reads.
 */
function parseDeliveryStatus(body: string): BounceRecipient[] {
  const groups: string[][] = [[]];
  for (const line of body.split('\n')) {
    if (isBlank(line)) groups.push([]);
    else groups[groups.length - 1]?.push(line);
  }
  const recipients: BounceRecipient[] = [];
  for (const group of groups) {
    if (group.length === 0) continue;
    const fields = parseFields(group);
    // the address we sent to; Final-Recipient may be the result of forwarding or alias expansion
    const named = firstField(fields, 'original-recipient') ?? '';
    const original = /^rfc822\s*;/i.test(named) ? dsnAddress(named) : '';
    const address = original !== '' ? original : dsnAddress(firstField(fields, 'final-recipient') ?? '');
    if (address === '') continue;
    const diagnostic = firstField(fields, 'diagnostic-code') || null;
    const actionWord = /^[A-Za-z]+/.exec(firstField(fields, 'action') ?? '')?.[0]?.toLowerCase();
    let action = ACTIONS.find((a) => a === actionWord);
    // Status is required; without it the SMTP reply in Diagnostic-Code, then the action, tells the class
    const status =
      enhancedCode(firstField(fields, 'status') ?? '') ??
      (diagnostic === null ? undefined : (enhancedCode(diagnostic) ?? basicCode(diagnostic))) ??
      statusOfAction(action);
    if (status === undefined) continue;
    action ??= status.startsWith('5') ? 'failed' : status.startsWith('4') ? 'delayed' : 'delivered';
    recipients.push({
      address,
      action,
      status,
      hard: action === 'failed' && status.startsWith('5'),
      diagnostic,
    });
  }
  return recipients;
}

function statusOfAction(action: BounceAction | undefined): string | undefined {
  if (action === undefined) return undefined;
  return action === 'failed' ? '5.0.0' : action === 'delayed' ? '4.0.0' : '2.0.0';
}

/** `rfc822; <Someone@Example.org>` → `someone@example.org` (any address-type prefix goes). */
function dsnAddress(v: string): string {
  return bareAddress(v.replace(/^[A-Za-z0-9][A-Za-z0-9-]*\s*;/, ''));
}

function bareAddress(v: string): string {
  let a = v.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1).trim();
  return a.toLowerCase();
}

/** An RFC 3463 code (class.subject.detail) standing on its own, not inside an IP address. */
function enhancedCode(v: string): string | undefined {
  const m = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/.exec(v);
  return m === null ? undefined : `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
}

/** `smtp; 550 ...` with no enhanced code: only the class is known. */
function basicCode(diagnostic: string): string | undefined {
  const m = /^(?:[A-Za-z0-9-]+\s*;\s*)?([245])\d\d(?![\d.])/.exec(diagnostic);
  return m === null ? undefined : `${m[1]}.0.0`;
}

// ---------------------------------------------------------------------------------------------
// addresses and the message key

/** The addresses in a To header: `"Doe, J" <j@x>, k@y (Kay)` → ['j@x', 'k@y']. */
function addressList(v: string): string[] {
  const entries: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      entries.push(v.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(v.slice(start));
  return entries.flatMap((entry) => {
    const bracketed = /<([^<>]*)>/.exec(entry)?.[1];
    const spec =
      bracketed ??
      entry
        .replace(/\([^()]*\)/g, ' ')
        .split(/[\s<>()",;:]+/)
        .find((token) => token.includes('@'));
    const address = spec === undefined ? '' : bareAddress(spec);
    return address.includes('@') ? [address] : [];
  });
}

function keyFrom(headers: readonly Field[]): string | null {
  let value = firstField(headers, 'x-kizuna-key');
  if (value === undefined) return null;
  if (value.startsWith('<') && value.endsWith('>')) value = value.slice(1, -1).trim();
  return MESSAGE_KEY.test(value) ? value : null;
}

// ---------------------------------------------------------------------------------------------
// the MIME splitter

interface Field {
  /** lower-cased */
  readonly name: string;
  /** unfolded, decoded from UTF-8, trimmed */
  readonly value: string;
}

interface Part {
  /** lower-cased media type; text/plain when the part says nothing (RFC 2046) */
  readonly type: string;
  /** after undoing the transfer encoding, one latin1 char per byte, \n line ends */
  readonly body: string;
}

function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/**
 * Blank as far as MIME is concerned: nothing but spaces and tabs. (String#trim would also eat
 * U+00A0, which here is the byte 0xA0, part of many UTF-8 characters.)
 */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    if (!isSpTab(line.charCodeAt(i))) return false;
  }
  return true;
}

function isSpTab(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Spaces and tabs off the end (see isBlank for why not String#trimEnd). */
function trimSpTabEnd(s: string): string {
  let b = s.length;
  while (b > 0 && isSpTab(s.charCodeAt(b - 1))) b--;
  return s.slice(0, b);
}

/** Spaces and tabs off both ends. */
function trimSpTab(s: string): string {
  let a = 0;
  while (a < s.length && isSpTab(s.charCodeAt(a))) a++;
  return trimSpTabEnd(s.slice(a));
}

/**
 * Header block (up to the first blank line, read no further than MAX_HEADER_BLOCK_BYTES) and body.
 * `skipLeadingBlank` is for returned messages: some MTAs put a blank line between the part's own
 * headers and the returned message's.
 */
function splitEntity(s: string, skipLeadingBlank = false): { headers: Field[]; body: string } {
  const lines: string[] = [];
  let pos = 0;
  while (pos < s.length && pos <= MAX_HEADER_BLOCK_BYTES) {
    const nl = s.indexOf('\n', pos);
    const end = nl === -1 ? s.length : nl;
    const line = s.slice(pos, end);
    pos = end + 1;
    if (isBlank(line)) {
      if (skipLeadingBlank && lines.length === 0) continue;
      return { headers: parseFields(lines), body: s.slice(pos) };
    }
    lines.push(line);
  }
  return { headers: parseFields(lines), body: '' };
}

/**
 * `Name: value` lines, continuation lines (leading space or tab) unfolded into the field before
 * them with one space. Lines that are neither are skipped.
 */
function parseFields(lines: readonly string[]): Field[] {
  const raw: { name: string; segments: string[] }[] = [];
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      raw[raw.length - 1]?.segments.push(trimSpTab(line));
      continue;
    }
    const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
    if (m !== null) raw.push({ name: (m[1] ?? '').toLowerCase(), segments: [trimSpTab(m[2] ?? '')] });
  }
  return raw.map((f) => ({
    name: f.name,
    value: Buffer.from(f.segments.filter((x) => x !== '').join(' '), 'latin1')
      .toString('utf8')
      .trim(),
  }));
}

function firstField(fields: readonly Field[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

function allFields(fields: readonly Field[], name: string): string[] {
  return fields.filter((f) => f.name === name).map((f) => f.value);
}

/** `type/subtype; a=b; c="d; e"` → lower-cased type and parameters (names lower-cased). */
function parseContentType(v: string | undefined): { type: string; params: Map<string, string> } | null {
  if (v === undefined) return null;
  v = v.slice(0, MAX_CONTENT_TYPE_CHARS);
  const type = /^([^\s;/]+\/[^\s;]+)/.exec(v)?.[1]?.toLowerCase();
  if (type === undefined) return null;
  const params = new Map<string, string>();
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g;
  for (const m of v.matchAll(re)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!params.has(name)) params.set(name, value);
  }
  return { type, params };
}

/**
 * The body parts between `--boundary` lines (RFC 2046 section 5.1.1; spaces or tabs may follow a
 * delimiter). The line break before a delimiter belongs to it. A report cut short before the closing
 * `--boundary--` (MTAs truncate big returned messages) keeps what it has.
 */
function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let partStart = -1;
  let at = body.startsWith(delimiter) ? 0 : nextLineStartingWith(body, delimiter, 0);
  while (at !== -1) {
    const nl = body.indexOf('\n', at);
    const lineEnd = nl === -1 ? body.length : nl;
    const rest = body.slice(at + delimiter.length, lineEnd);
    const closing = rest.startsWith('--') && isBlank(rest.slice(2));
    if (closing || isBlank(rest)) {
      if (partStart !== -1) parts.push(body.slice(partStart, Math.max(partStart, at - 1)));
      if (closing || parts.length === MAX_PARTS) return parts;
      partStart = Math.min(lineEnd + 1, body.length);
    }
    at = nextLineStartingWith(body, delimiter, lineEnd);
  }
  if (partStart !== -1) parts.push(body.slice(partStart));
  return parts;
}

function nextLineStartingWith(s: string, prefix: string, from: number): number {
  const i = s.indexOf(`\n${prefix}`, from);
  return i === -1 ? -1 : i + 1;
}

function decodePart(part: string): Part {
  const { headers, body } = splitEntity(part);
  const type = parseContentType(firstField(headers, 'content-type'))?.type ?? 'text/plain';
  const encoding = firstField(headers, 'content-transfer-encoding')?.toLowerCase();
  if (encoding === 'base64') {
    const bytes = Buffer.from(body.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
    return { type, body: normalizeNewlines(bytes.toString('latin1')) };
  }
  if (encoding === 'quoted-printable') {
    // trailing whitespace is not content (RFC 2045 6.7 rule 3); "=" at a line's end is a soft break
    const lines = body.split('\n').map(trimSpTabEnd);
    const decoded = lines
      .map((line, i) => (line.endsWith('=') ? line.slice(0, -1) : i < lines.length - 1 ? `${line}\n` : line))
      .join('')
      .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return { type, body: normalizeNewlines(decoded) };
  }
  return { type, body };
}
