-- Access control (docs/access.md): staff users with roles, their sign-in sessions, named and scoped
-- API keys, and the append-only audit log.
--
-- API keys gain an id (what staff see and revoke by; the hash stays the lookup key), a name, a scope,
-- who created them and when they were last used. `kind` stays: 'write' for the ingest scope, 'admin'
-- for every other scope, so ingestion keeps asking for a write key exactly as before.
ALTER TABLE api_keys ADD COLUMN id TEXT;
ALTER TABLE api_keys ADD COLUMN name TEXT;
ALTER TABLE api_keys ADD COLUMN scope TEXT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
UPDATE api_keys SET
  id = 'key_' || substr(key_hash, 1, 20),
  name = CASE kind WHEN 'write' THEN 'write key' ELSE 'admin key' END,
  scope = CASE kind WHEN 'write' THEN 'ingest' ELSE 'admin' END;
CREATE UNIQUE INDEX api_keys_by_id ON api_keys (workspace_id, id);

-- One row per member of staff; an e-mail is unique within a workspace (the same person may work in
-- several). `password_hash` is the self-describing scrypt string of src/access/password.ts.
CREATE TABLE staff_users (
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  id TEXT NOT NULL,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'marketer', 'analyst', 'support')),
  locale TEXT NOT NULL CHECK (locale IN ('en', 'ja')),
  disabled INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX staff_users_by_email ON staff_users (workspace_id, email);
CREATE INDEX staff_users_email ON staff_users (email);

-- A session is found by the SHA-256 of its cookie token; the plain token lives only in the browser.
CREATE TABLE staff_sessions (
  token_hash TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_by_user ON staff_sessions (workspace_id, user_id);

-- Who did what to which resource, from where. Triggers refuse UPDATE and DELETE: rows are only ever
-- appended. Actor names are copied in, so the log still reads after a key or user is gone.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'key')),
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT,
  status INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (workspace_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
