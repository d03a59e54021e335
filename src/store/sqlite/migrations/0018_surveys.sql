-- Surveys, their answers and the voice-of-the-customer board (docs/surveys.md). A survey's questions
-- live in `definition` (JSON) and are validated before they are stored. One answer per profile,
-- survey and question: answering again replaces it (the timeline keeps every `Survey Answered`
-- event). Feedback is free text from survey comments, support notes and staff; `search` is its text
-- lower-cased and NFKC-normalised by the application, so a substring search means the same on both
-- engines. A survey comment is one feedback row per answer (the partial unique index), updated when
-- the customer comments again, so staff tags survive.
CREATE TABLE surveys (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  template TEXT,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX surveys_by_name ON surveys (workspace_id, name);

CREATE TABLE survey_responses (
  workspace_id TEXT NOT NULL,
  survey_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  value TEXT NOT NULL,
  score REAL,
  comment TEXT,
  answered_at INTEGER NOT NULL,
  source TEXT NOT NULL,
  journey_id TEXT,
  message_key TEXT,
  PRIMARY KEY (workspace_id, survey_id, profile_id, question_id)
) WITHOUT ROWID;
CREATE INDEX survey_responses_by_profile ON survey_responses (workspace_id, profile_id);

CREATE TABLE feedback (
  workspace_id TEXT NOT NULL,
  id TEXT NOT NULL,
  profile_id TEXT,
  source TEXT NOT NULL,
  author TEXT,
  text TEXT NOT NULL,
  search TEXT NOT NULL,
  sentiment TEXT,
  topics TEXT NOT NULL,
  survey_id TEXT,
  question_id TEXT,
  journey_id TEXT,
  message_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE INDEX feedback_by_time ON feedback (workspace_id, created_at, id);
CREATE INDEX feedback_by_profile ON feedback (workspace_id, profile_id, created_at);
CREATE UNIQUE INDEX feedback_by_answer ON feedback (workspace_id, survey_id, question_id, profile_id)
  WHERE source = 'survey';
