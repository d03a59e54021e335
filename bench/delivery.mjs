// npm run bench:delivery — templates and the e-mail channel through the real server (docs/performance.md):
//  1. Broadcast: N customers (BENCH_CUSTOMERS, default 1,000,000) with an e-mail address are in a
//     segment; a broadcast to it is created and the bench times until every customer's message is
//     rendered and queued (schedule run → entries → runner renders the Liquid template per customer →
//     outbox), with the server's peak memory. Delivery is off in this part. Baseline, same run: a bare
//     script rendering the same template with liquidjs and inserting the same rows into SQLite.
//  2. SMTP: M messages (BENCH_EMAILS, default 20,000) are queued the same way, then a server with
//     delivery on sends them over its pooled connections to an SMTP sink on loopback (Debian's postfix
//     `smtp-sink` when installed, else a node SMTP server). Baselines, same run: bare nodemailer loops
//     with the same pool size to the same sink, sending the stored content only, and sending the same
//     e-mails the dispatcher sent (its unsubscribe headers and tracked HTML, made before timing).
import Database from 'better-sqlite3';
import { Liquid } from 'liquidjs';
import nodemailer from 'nodemailer';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cpuMs,
  createWorkspace,
  serverClient,
  fmt,
  peakRssMb,
  ROOT,
  startServer,
  stopServer,
} from './lib.mjs';

const { LinkSigner } = await import(`${ROOT}dist/channels/links.js`);
const { trackHtml } = await import(`${ROOT}dist/channels/email/tracking.js`);

const N = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const M = Number(process.env.BENCH_EMAILS ?? 20_000);
const POOL = 5;
const line = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

const TEMPLATE = {
  name: 'weekly',
  channel: 'email',
  variants: {
    en: {
      subject: 'Your week at the shop, {{ profile.first_name }}',
      html: '<h1>Hi {{ profile.first_name }}</h1>{% for p in profile.picks %}<p>{{ p }}</p>{% endfor %}<p>You are {{ stage | default: "new" }} with us.</p>',
      text: 'Hi {{ profile.first_name }}, {{ profile.picks | join: ", " }}',
    },
    ja: {
      subject: '{{ profile.first_name }}様、今週のおすすめ',
      html: '<h1>{{ profile.first_name }}様</h1>{% for p in profile.picks %}<p>{{ p }}</p>{% endfor %}',
      text: '{{ profile.first_name }}様 {{ profile.picks | join: "、" }}',
    },
  },
};
const traitsOf = (i) => ({
  email: `c${i}@example.com`,
  first_name: `Customer${i}`,
  locale: i % 10 === 0 ? 'ja-JP' : 'en-US',
  timezone: i % 10 === 0 ? 'Asia/Tokyo' : 'Europe/London',
  picks: [`item-${i % 97}`, `item-${i % 89}`, `item-${i % 83}`],
});

/** BENCH_SERVER_ARGS: node flags for the server processes (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof). */
const serverArgs = process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? [];

/** A server with a workspace holding `n` customers in a segment and the template; delivery as given. */
async function prepare(n, delivery, dataDir) {
  const env = {
    KIZUNA_DATA_DIR: dataDir,
    DATABASE_URL: '',
    KIZUNA_SWEEP_INTERVAL_MINUTES: '0',
    KIZUNA_DELIVERY: delivery ? 'on' : 'off',
  };
  const keys = createWorkspace(env, 'bench');
  const server = await startServer(env, serverArgs);
  const http = serverClient(server.url, keys);
  const { admin, ingest } = http;
  const segment = await admin('POST', '/segments?allow_unknown=true', {
    name: 'Reachable',
    rule: { trait: 'email', op: 'exists' },
  });
  await admin('POST', '/templates', TEMPLATE);
  let sent = 0;
  const SIZE = 500;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (;;) {
        const from = sent;
        if (from >= n) return;
        sent += SIZE;
        const parts = [];
        for (let i = from; i < Math.min(n, from + SIZE); i++)
          parts.push(
            JSON.stringify({ type: 'identify', userId: `c${i}`, messageId: `i${i}`, traits: traitsOf(i) }),
          );
        await ingest(`{"batch":[${parts.join(',')}]}`);
        if (from % 100_000 === 0 && from > 0) process.stderr.write(`  ingested ${fmt(from)}\n`);
      }
    }),
  );
  for (;;) {
    const s = await admin('GET', `/segments/${segment.id}`);
    if (s.size >= n) break;
    await sleep(500);
  }
  return { env, keys, server, http, admin, segment };
}

/** Creates the broadcast and waits until all `n` messages are queued; returns seconds and peak RSS. */
async function broadcast(ctx, n, db) {
  // The server's CPU time (all threads) across the broadcast: unlike the wall clock, it hardly
  // depends on what else wants the machine's cores.
  const cpu0 = cpuMs(ctx.server.pid);
  const t0 = performance.now();
  const b = await ctx.admin('POST', '/broadcasts', {
    name: 'Weekly picks',
    segment: ctx.segment.id,
    channel: 'email',
    template: 'weekly',
    send_at: 'now',
  });
  let peak = 0;
  let last = 0;
  for (;;) {
    const q = db.prepare('SELECT count(*) FROM journey_messages WHERE journey_id = ?').pluck().get(b.id);
    peak = Math.max(peak, rssMb(ctx.server.pid));
    if (q >= n) break;
    if (q - last >= 100_000) {
      process.stderr.write(`  queued ${fmt(q)}\n`);
      last = q;
    }
    await sleep(250);
  }
  const sec = (performance.now() - t0) / 1000;
  const cpuPerThousand = ((cpuMs(ctx.server.pid) - cpu0) * 1000) / n;
  const span = (sql) => {
    const r = db.prepare(sql).get(b.id);
    return (r.last - r.first) / 1000;
  };
  const entering = span(
    'SELECT min(entered_at) AS first, max(entered_at) AS last FROM journey_entries WHERE journey_id = ?',
  );
  const queueing = span(
    'SELECT min(created_at) AS first, max(created_at) AS last FROM journey_messages WHERE journey_id = ?',
  );
  process.stderr.write(
    `  entries created over ${fmt(entering, 1)} s; messages queued over ${fmt(queueing, 1)} s\n`,
  );
  const skipped = db
    .prepare("SELECT count(*) FROM journey_messages WHERE journey_id = ? AND status <> 'queued'")
    .pluck()
    .get(b.id);
  const why = db
    .prepare(
      `SELECT status, reason, count(*) AS n FROM journey_messages WHERE journey_id = ? AND status <> 'queued'
       GROUP BY status, reason ORDER BY n DESC LIMIT 5`,
    )
    .all(b.id);
  for (const w of why) process.stderr.write(`  not queued: ${fmt(w.n)} ${w.status}: ${w.reason}\n`);
  return { sec, cpuPerThousand, peak: Math.max(peak, peakRssMb(ctx.server.pid)), journey: b.id, skipped };
}

/** The same work without the platform: parse once, render each customer, insert rows in batches. */
function bareRenderAndInsert(n, dir) {
  const engine = new Liquid({ strictVariables: true, lenientIf: true, ownPropertyOnly: true, templates: {} });
  const html = new Liquid({ strictVariables: true, lenientIf: true, outputEscape: 'escape', templates: {} });
  const parsed = Object.fromEntries(
    Object.entries(TEMPLATE.variants).map(([l, v]) => [
      l,
      { subject: engine.parse(v.subject), html: html.parse(v.html), text: engine.parse(v.text) },
    ]),
  );
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE m (workspace_id TEXT, key TEXT, journey_id TEXT, entry_id TEXT, profile_id TEXT, step TEXT,
    channel TEXT, template TEXT, payload TEXT, created_at INTEGER, status TEXT, next_attempt_at INTEGER,
    PRIMARY KEY (workspace_id, key)) WITHOUT ROWID;
    CREATE INDEX m_j ON m (workspace_id, journey_id, created_at, key);
    CREATE INDEX m_p ON m (workspace_id, profile_id, created_at, key);
    CREATE INDEX m_due ON m (next_attempt_at) WHERE next_attempt_at IS NOT NULL;`);
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const t0 = performance.now();
  const now = Date.now();
  for (let from = 0; from < n; from += 1000) {
    db.transaction(() => {
      for (let i = from; i < Math.min(n, from + 1000); i++) {
        const traits = traitsOf(i);
        const v = parsed[traits.locale.startsWith('ja') ? 'ja' : 'en'];
        const scope = { profile: { ...traits, id: `p${i}` }, stage: null };
        const content = {
          subject: engine.renderSync(v.subject, scope),
          html: html.renderSync(v.html, scope),
          text: engine.renderSync(v.text, scope),
        };
        const payload = JSON.stringify({
          to: traits.email,
          topic: 'marketing',
          template_version: 1,
          locale: 'en',
          content,
        });
        ins.run(
          'ws',
          `e${i}:send:0`,
          'jr',
          `e${i}`,
          `p${i}`,
          'send',
          'email',
          'weekly',
          payload,
          now,
          'queued',
          now,
        );
      }
    })();
  }
  const sec = (performance.now() - t0) / 1000;
  db.close();
  return sec;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An SMTP sink on loopback: postfix's smtp-sink when installed, else a node SMTP server process. */
async function startSink() {
  const port = await freePort();
  const native = spawnSync('sh', ['-c', 'command -v smtp-sink || ls /usr/sbin/smtp-sink'], {
    encoding: 'utf8',
  });
  const path = native.stdout.trim().split('\n')[0];
  const child = path
    ? spawn(path, ['-u', 'nobody', `127.0.0.1:${port}`, '1000'], { stdio: 'ignore' })
    : spawn(
        process.execPath,
        [
          '-e',
          `const { SMTPServer } = require('smtp-server');
           new SMTPServer({ disabledCommands: ['STARTTLS'], authOptional: true, logger: false,
             onData(s, _x, cb) { s.on('data', () => {}); s.on('end', () => cb()); } }).listen(${port}, '127.0.0.1');`,
        ],
        { stdio: 'ignore' },
      );
  await sleep(500);
  return { port, child, kind: path ? 'postfix smtp-sink' : 'node smtp-server' };
}

async function main() {
  line(`delivery bench: broadcast to ${fmt(N)} customers; SMTP delivery of ${fmt(M)} messages`);

  // 1. Broadcast: render and queue.
  const dir1 = mkdtempSync(join(tmpdir(), 'kizuna-bench-bc-'));
  const t0 = performance.now();
  const ctx = await prepare(N, false, dir1);
  line(`  ${fmt(N)} customers ingested and in the segment in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const db = new Database(join(dir1, 'kizuna.db'), { readonly: true });
  const r = await broadcast(ctx, N, db);
  line(
    `broadcast: ${fmt(N)} messages rendered and queued in ${fmt(r.sec, 1)} s = ${fmt(N / r.sec)} messages/s (${fmt(r.skipped)} not queued); server CPU ${fmt(r.cpuPerThousand)} ms per 1,000 messages; server peak RSS ${fmt(r.peak)} MB`,
  );
  db.close();
  await stopServer(ctx.server);
  await ctx.http.close();
  const bareSec = bareRenderAndInsert(N, dir1);
  line(
    `  baseline, bare liquidjs render + SQLite insert of the same rows: ${fmt(N / bareSec)} messages/s; ratio ${fmt(bareSec / r.sec, 2)}`,
  );
  rmSync(dir1, { recursive: true, force: true });

  // 2. SMTP delivery.
  const sink = await startSink();
  const dir2 = mkdtempSync(join(tmpdir(), 'kizuna-bench-smtp-'));
  const ctx2 = await prepare(M, false, dir2);
  await ctx2.admin('PUT', '/channels/email', {
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.example>', pool_size: POOL },
  });
  const db2 = new Database(join(dir2, 'kizuna.db'), { readonly: true });
  const queued = await broadcast(ctx2, M, db2);
  await stopServer(ctx2.server);
  await ctx2.http.close();
  const server = await startServer({ ...ctx2.env, KIZUNA_DELIVERY: 'on' }, serverArgs);
  const cpuS = cpuMs(server.pid);
  const ts = performance.now();
  for (;;) {
    const done = db2
      .prepare("SELECT count(*) FROM journey_messages WHERE journey_id = ? AND status <> 'queued'")
      .pluck()
      .get(queued.journey);
    if (done >= M) break;
    await sleep(100);
  }
  const smtpSec = (performance.now() - ts) / 1000;
  const smtpCpu = ((cpuMs(server.pid) - cpuS) * 1000) / M;
  const sentCount = db2
    .prepare("SELECT count(*) FROM journey_messages WHERE journey_id = ? AND status = 'sent'")
    .pluck()
    .get(queued.journey);
  const rows = db2
    .prepare('SELECT workspace_id, key, payload FROM journey_messages WHERE journey_id = ?')
    .all(queued.journey)
    .map((x) => ({ ws: x.workspace_id, key: x.key, ...JSON.parse(x.payload) }));
  db2.close();
  await stopServer(server);
  line(
    `smtp (${sink.kind}, pool ${POOL}): ${fmt(sentCount)} of ${fmt(M)} sent in ${fmt(smtpSec, 1)} s = ${fmt(M / smtpSec)} messages/s (including the server's start)`,
  );

  // Two bare loops: one sends the stored content only (the baseline of runs 1–5); the other sends the
  // same e-mails the dispatcher sent — its one-click unsubscribe headers, its Message-ID and its HTML
  // with tracked links and the open pixel, signed with a throwaway key (same lengths), all made
  // before its clock starts. The second is the target's baseline: the same messages, without the
  // platform.
  const signer = new LinkSigner(randomBytes(32), () => 'http://127.0.0.1:0');
  const sameAsSent = rows.map((m) => {
    const contact = { ws: m.ws, channel: 'email', address: m.to };
    const unsubscribe = signer.unsubscribeUrl({ ...contact, topic: m.topic, message: m.key });
    return {
      ...m,
      headers: {
        'X-Kizuna-Key': m.key,
        'List-Unsubscribe': `<${unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      messageId: `<${m.key.replace(/[^A-Za-z0-9._-]/g, '.')}@shop.example>`,
      html: trackHtml(m.content.html, {
        click: (url) => signer.clickUrl(m.ws, m.key, url),
        open: signer.openUrl(m.ws, m.key),
        keep: [signer.preferencesUrl(contact), unsubscribe],
      }),
    };
  });
  const stored = await bareLoop(
    sink.port,
    rows.map((m) => ({ ...m, headers: { 'X-Kizuna-Key': m.key }, html: m.content.html })),
  );
  line(
    `  baseline, bare nodemailer loop (pool ${POOL}, 16 in flight), the stored content only: ${fmt(M / stored.sec)} messages/s; ratio ${fmt(stored.sec / smtpSec, 2)}`,
  );
  const same = await bareLoop(sink.port, sameAsSent);
  line(
    `  baseline, bare nodemailer loop, the same e-mails as sent (unsubscribe headers, tracked HTML): ${fmt(M / same.sec)} messages/s; ratio ${fmt(same.sec / smtpSec, 2)}`,
  );
  line(
    `  CPU per 1,000 messages: server ${fmt(smtpCpu)} ms; bare loops ${fmt(stored.cpuPerThousand)} and ${fmt(same.cpuPerThousand)} ms (the sink's own not counted)`,
  );
  sink.child.kill();
  rmSync(dir2, { recursive: true, force: true });
}

/** Sends `mails` with nodemailer alone (pool 5, 16 in flight); returns seconds and CPU per 1,000. */
async function bareLoop(port, mails) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    pool: true,
    maxConnections: POOL,
    maxMessages: 1000,
  });
  const cpu = process.cpuUsage();
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < mails.length) {
        const m = mails[next++];
        await transport.sendMail({
          from: 'Shop <news@shop.example>',
          to: m.to,
          subject: m.content.subject,
          html: m.html,
          text: m.content.text,
          headers: m.headers,
          ...(m.messageId && { messageId: m.messageId }),
        });
      }
    }),
  );
  const sec = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  transport.close();
  return { sec, cpuPerThousand: (used.user + used.system) / mails.length };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
