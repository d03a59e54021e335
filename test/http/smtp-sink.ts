import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/**
 * A real SMTP server on loopback (the npm smtp-server) that parses what arrives (mailparser): the
 * receiving end of the e-mail tests. `refuse` answers RCPT TO for an address with an SMTP error.
 */
export interface SmtpSink {
  readonly port: number;
  inbox: ParsedMail[];
  /** connections opened so far */
  readonly connections: number;
  /** recipient → [reply code, text] for RCPT TO; others are accepted */
  readonly refuse: Map<string, number | [number, string]>;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  let connections = 0;
  const refuse = new Map<string, number | [number, string]>();
  const sink = {
    port: 0,
    inbox: [] as ParsedMail[],
    get connections() {
      return connections;
    },
    refuse,
    close: () => new Promise<void>((r) => smtp.close(() => r())),
  };
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    // Kizuna keeps its pooled connections open; closing the sink waits this long for them (30 s unset).
    closeTimeout: 500,
    authOptional: true,
    logger: false,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onAuth(auth, _session, cb) {
      if (auth.username === 'kizuna' && auth.password === 'right') cb(null, { user: 'kizuna' });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const r = refuse.get(address.address);
      if (r === undefined) return cb();
      const [code, text] = typeof r === 'number' ? [r, `mailbox ${address.address} unavailable`] : r;
      cb(Object.assign(new Error(text), { responseCode: code }));
    },
    onData(stream, _session, cb) {
      simpleParser(stream).then(
        (mail) => {
          sink.inbox.push(mail);
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  sink.port = (smtp.server.address() as AddressInfo).port;
  return sink;
}

/** A header's value as it was on the wire (unfolded), or null. */
export const header = (mail: ParsedMail, name: string): string | null => {
  const line = mail.headerLines.find((h) => h.key === name)?.line;
  return line === undefined
    ? null
    : line
        .slice(line.indexOf(':') + 1)
        .replace(/\r?\n\s+/g, ' ')
        .trim();
};
