// Adds a fresh admin key to an existing SQLite workspace and prints it (benchmarks only: the demo
// workspace's own keys were printed once, when it was created).
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const [dir, ws] = process.argv.slice(2);
const adminKey = `ak_${randomBytes(24).toString('base64url')}`;
const db = new Database(join(dir, 'kizuna.db'));
db.pragma('busy_timeout = 10000');
db.prepare("INSERT INTO api_keys (key_hash, workspace_id, kind, created_at) VALUES (?, ?, 'admin', ?)").run(
  createHash('sha256').update(adminKey).digest('hex'),
  ws,
  Date.now(),
);
db.close();
process.stdout.write(JSON.stringify({ adminKey }) + '\n');
