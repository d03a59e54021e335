-- Access control (docs/access.md): staff users with roles, their sign-in sessions, named and scoped
-- API keys, and the append-only audit log.
--
-- API keys gain an id (what staff see and revoke by; the hash stays the lookup key), a name, a scope,
-- who created them and when they were last used. `kind` stays: 'write' for the ingest scope, 'admin'
-- for every other scope, so ingestion keeps asking for a write key exactly as before.
ALTER TABLE api_keys ADD COLUMN id text COLLATE "C";
ALTER TABLE api_keys ADD COLUMN name text;
ALTER TABLE api_keys ADD COLUMN scope text;
ALTER TABLE api_keys ADD COLUMN created_by text;
ALTER TABLE api_keys ADD COLUMN last_used_at bigint;
UPDATE api_keys SET
  id = 'key_' || substr(key_hash, 1, 20),
  name = CASE kind WHEN 'write' THEN 'write key' ELSE 'admin key' END,
  scope = CASE kind WHEN 'write' THEN 'ingest' ELSE 'admin' END;
CREATE UNIQUE INDEX api_keys_by_id ON api_keys (workspace_id, id);

-- One row per member of staff; an e-mail is unique within a workspace (the same person may work in
-- several). `password_hash` is the self-describing scrypt string of src/access/password.ts.
CREATE TABLE staff_users (
  workspace_id text COLLATE "C" NOT NULL REFERENCES workspaces (id),
  id text COLLATE "C" NOT NULL,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'marketer', 'analyst', 'support')),
  locale text NOT NULL CHECK (locale IN ('en', 'ja')),
  disabled boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX staff_users_by_email ON staff_users (workspace_id, email);
CREATE INDEX staff_users_email ON staff_users (email);

-- A session is found by the SHA-256 of its cookie token; the plain token lives only in the browser.
CREATE TABLE staff_sessions (
  token_hash text COLLATE "C" PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C" NOT NULL,
  csrf_token text NOT NULL,
  created_at bigint NOT NULL,
  last_seen_at bigint NOT NULL
);
CREATE INDEX staff_sessions_by_user ON staff_sessions (workspace_id, user_id);

-- Who did what to which resource, from where. Triggers refuse UPDATE and DELETE: rows are only ever
-- appended. Actor names are copied in, so the log still reads after a key or user is gone.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL,
  at bigint NOT NULL,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'key')),
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  action text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  status integer NOT NULL,
  ip text,
  user_agent text
);
CREATE INDEX audit_log_by_time ON audit_log (workspace_id, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
