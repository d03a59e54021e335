-- Surveys, their answers and the voice-of-the-customer board (docs/surveys.md). A survey's questions
-- live in `definition` (JSON) and are validated before they are stored. One answer per profile,
-- survey and question: answering again replaces it (the timeline keeps every `Survey Answered`
-- event). Feedback is free text from survey comments, support notes and staff; `search` is its text
-- lower-cased and NFKC-normalised by the application, so a substring search means the same on both
-- engines. A survey comment is one feedback row per answer (the partial unique index), updated when
-- the customer comments again, so staff tags survive.
CREATE TABLE surveys (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  status text NOT NULL,
  template text,
  definition jsonb NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX surveys_by_name ON surveys (workspace_id, name);

CREATE TABLE survey_responses (
  workspace_id text COLLATE "C" NOT NULL,
  survey_id text COLLATE "C" NOT NULL,
  question_id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C" NOT NULL,
  value text NOT NULL,
  score double precision,
  comment text,
  answered_at bigint NOT NULL,
  source text NOT NULL,
  journey_id text COLLATE "C",
  message_key text COLLATE "C",
  PRIMARY KEY (workspace_id, survey_id, profile_id, question_id)
);
CREATE INDEX survey_responses_by_profile ON survey_responses (workspace_id, profile_id);

CREATE TABLE feedback (
  workspace_id text COLLATE "C" NOT NULL,
  id text COLLATE "C" NOT NULL,
  profile_id text COLLATE "C",
  source text NOT NULL,
  author text,
  text text NOT NULL,
  search text NOT NULL,
  sentiment text,
  topics jsonb NOT NULL,
  survey_id text COLLATE "C",
  question_id text COLLATE "C",
  journey_id text COLLATE "C",
  message_key text COLLATE "C",
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX feedback_by_time ON feedback (workspace_id, created_at, id);
CREATE INDEX feedback_by_profile ON feedback (workspace_id, profile_id, created_at);
CREATE UNIQUE INDEX feedback_by_answer ON feedback (workspace_id, survey_id, question_id, profile_id)
  WHERE source = 'survey';
