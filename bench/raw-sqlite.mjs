// Baseline: a bare script inserting the same events into SQLite (same schema, WAL, synchronous=FULL,
// one transaction per 100 events, the same indexes), with no HTTP, validation or identity resolution.
// Prints events/s.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, batchBody } from './lib.mjs';

const seconds = Number(process.argv[2] ?? 10);
const usersPerBatch = Number(process.argv[3] ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'kizuna-raw-'));
const db = new Database(join(dir, 'raw.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + (process.env.SYNC ?? 'FULL'));
db.exec(readFileSync(join(ROOT, 'src/store/sqlite/migrations/0001_initial.sql'), 'utf8'));
const insert = db.prepare(
  `INSERT INTO events (workspace_id, profile_id, message_id, type, name, user_id, anonymous_id, timestamp, received_at, payload)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
const tx = db.transaction((events) => {
  for (const e of events)
    insert.run(
      'ws',
      `p-${e.userId}`,
      e.messageId,
      e.type,
      e.event,
      e.userId,
      null,
      Date.parse(e.timestamp),
      Date.now(),
      JSON.stringify(e),
    );
});
let events = 0;
let inserting = 0;
// Only the inserts are timed: parsing the client's JSON is left out, so the baseline is the
// fastest this disk and this schema can take the same rows.
while (inserting < seconds * 1000) {
  const batch = JSON.parse(batchBody('raw', events / 100, 100, usersPerBatch)).batch;
  const t = performance.now();
  tx(batch);
  inserting += performance.now() - t;
  events += batch.length;
}
const elapsed = inserting / 1000;
db.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ events, elapsed, rate: events / elapsed }) + '\n');
