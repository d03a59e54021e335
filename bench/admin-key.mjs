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
db.prepare('INSERT INTO api_keys (key_hash, workspace_id, kind, created_at) VALUES (?, ?, ?, ?)').run(
  createHash('sha256').update(key).digest('hex'),
  ws,
  kind === 'write' ? 'write' : 'admin',
  Date.now(),
);
db.close();
process.stdout.write(JSON.stringify({ [kind === 'write' ? 'writeKey' : 'adminKey']: key }) + '\n');
