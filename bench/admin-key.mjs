// Adds a fresh admin key (or, with a third argument `write`, a write key) to an existing SQLite
// workspace and prints it (benchmarks only: the demo workspace's own keys were printed once, when it
// was created).
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const [dir, ws, kind = 'admin'] = process.argv.slice(2);
const key = `${kind === 'write' ? 'wk' : 'ak'}_${randomBytes(24).toString('base64url')}`;
const db = new Database(join(dir, 'kizuna.db'));
db.pragma('busy_timeout = 10000');
const hash = createHash('sha256').update(key).digest('hex');
db.prepare(
  'INSERT INTO api_keys (key_hash, workspace_id, kind, created_at, id, name, scope) VALUES (?, ?, ?, ?, ?, ?, ?)',
).run(
  hash,
  ws,
  kind === 'write' ? 'write' : 'admin',
  Date.now(),
  `key_${hash.slice(0, 20)}`,
  `bench ${kind} key`,
  kind === 'write' ? 'ingest' : 'admin',
);
db.close();
process.stdout.write(JSON.stringify({ [kind === 'write' ? 'writeKey' : 'adminKey']: key }) + '\n');
