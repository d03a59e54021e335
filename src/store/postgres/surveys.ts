/**
 * Surveys, answers and feedback on PostgreSQL. Answers and their comments are written in one
 * transaction (the caller's); a name or id taken by a concurrent writer surfaces as ConflictError.
 */
import { ConflictError, NotFoundError } from '../../errors.js';
import {
  feedback,
  FEEDBACK_COLUMNS,
  surveyRecord,
  surveyResponse,
  type FeedbackRowDb,
  type ResponseRowDb,
  type SurveyRowDb,
} from '../survey-rows.js';
import {
  searchText,
  type Feedback,
  type FeedbackQuery,
  type FeedbackTags,
  type SurveyPut,
  type SurveyRecord,
  type SurveyResponse,
} from '../survey-store.js';
import type { Sql } from './pg-driver.js';
import { violatedConstraint } from './pg-errors.js';

/** Runs a write, turning a unique-index violation into the ConflictError it means. */
async function unique<T>(work: () => Promise<T>, conflict: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (violatedConstraint(err) !== null) throw new ConflictError(conflict, { cause: err });
    throw err;
  }
}

export async function putSurvey(
  sql: Sql,
  ws: string,
  s: SurveyPut,
  mode: 'create' | 'replace',
  now: number,
): Promise<SurveyRecord> {
  const named = await sql.query<{ id: string }>(
    'SELECT id FROM surveys WHERE workspace_id = $1 AND name = $2',
    [ws, s.name],
  );
  if (named[0] && named[0].id !== s.id) throw new ConflictError(`a survey named "${s.name}" already exists`);
  const definition = JSON.stringify(s.definition);
  const rows = await unique(
    () =>
      mode === 'create'
        ? sql.query<SurveyRowDb>(
            `INSERT INTO surveys (workspace_id, id, name, status, template, definition, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (workspace_id, id) DO NOTHING RETURNING *`,
            [ws, s.id, s.name, s.status, s.template, definition, now],
          )
        : sql.query<SurveyRowDb>(
            `UPDATE surveys SET name = $3, status = $4, definition = $5, updated_at = $6
             WHERE workspace_id = $1 AND id = $2 RETURNING *`,
            [ws, s.id, s.name, s.status, definition, now],
          ),
    `a survey named "${s.name}" already exists`,
  );
  if (!rows[0]) {
    if (mode === 'create') throw new ConflictError(`survey ${s.id} already exists`);
    throw new NotFoundError(`survey ${s.id} not found`);
  }
  return surveyRecord(rows[0]);
}

export async function getSurvey(sql: Sql, ws: string, id: string): Promise<SurveyRecord | null> {
  const rows = await sql.query<SurveyRowDb>('SELECT * FROM surveys WHERE workspace_id = $1 AND id = $2', [
    ws,
    id,
  ]);
  return rows[0] ? surveyRecord(rows[0]) : null;
}

export async function listSurveys(sql: Sql, ws: string): Promise<SurveyRecord[]> {
  const rows = await sql.query<SurveyRowDb>('SELECT * FROM surveys WHERE workspace_id = $1 ORDER BY name', [
    ws,
  ]);
  return rows.map(surveyRecord);
}

const feedbackRecordset = (ws: string, list: readonly Feedback[]) =>
  JSON.stringify(
    list.map((f) => ({
      id: f.id,
      profile_id: f.profileId,
      source: f.source,
      author: f.author,
      text: f.text,
      search: searchText(f.text),
      sentiment: f.sentiment,
      topics: f.topics,
      survey_id: f.surveyId,
      question_id: f.questionId,
      journey_id: f.journeyId,
      message_key: f.messageKey,
      created_at: f.createdAt,
      updated_at: f.updatedAt,
      ws,
    })),
  );

const FEEDBACK_INSERT = `INSERT INTO feedback (workspace_id, id, profile_id, source, author, text, search, sentiment,
    topics, survey_id, question_id, journey_id, message_key, created_at, updated_at)
  SELECT f.ws, f.id, f.profile_id, f.source, f.author, f.text, f.search, f.sentiment, f.topics, f.survey_id,
    f.question_id, f.journey_id, f.message_key, f.created_at, f.updated_at
  FROM json_to_recordset($1::json) AS f (ws text, id text, profile_id text, source text, author text, text text,
    search text, sentiment text, topics jsonb, survey_id text, question_id text, journey_id text,
    message_key text, created_at bigint, updated_at bigint)`;

/** Runs inside a transaction. */
export async function recordSurveyResponses(
  sql: Sql,
  ws: string,
  responses: readonly SurveyResponse[],
  comments: readonly Feedback[],
): Promise<void> {
  if (responses.length > 0) {
    await sql.query(
      `INSERT INTO survey_responses (workspace_id, survey_id, question_id, profile_id, value, score, comment,
         answered_at, source, journey_id, message_key)
       SELECT $1, a.survey_id, a.question_id, a.profile_id, a.value, a.score, a.comment, a.answered_at, a.source,
         a.journey_id, a.message_key
       FROM json_to_recordset($2::json) AS a (survey_id text, question_id text, profile_id text, value text,
         score double precision, comment text, answered_at bigint, source text, journey_id text, message_key text)
       ON CONFLICT (workspace_id, survey_id, profile_id, question_id) DO UPDATE SET value = excluded.value,
         score = excluded.score, comment = excluded.comment, answered_at = excluded.answered_at,
         source = excluded.source, journey_id = excluded.journey_id, message_key = excluded.message_key`,
      [
        ws,
        JSON.stringify(
          responses.map((a) => ({
            survey_id: a.surveyId,
            question_id: a.questionId,
            profile_id: a.profileId,
            value: JSON.stringify(a.value),
            score: a.score,
            comment: a.comment,
            answered_at: a.answeredAt,
            source: a.source,
            journey_id: a.journeyId,
            message_key: a.messageKey,
          })),
        ),
      ],
    );
  }
  if (comments.length > 0) {
    await sql.query(
      `${FEEDBACK_INSERT}
       ON CONFLICT (workspace_id, survey_id, question_id, profile_id) WHERE source = 'survey'
       DO UPDATE SET text = excluded.text, search = excluded.search, journey_id = excluded.journey_id,
         message_key = excluded.message_key, updated_at = excluded.updated_at`,
      [feedbackRecordset(ws, comments)],
    );
  }
}

export async function listSurveyResponses(
  sql: Sql,
  ws: string,
  surveyId: string,
  page: { limit: number; after?: { profileId: string; questionId: string } },
): Promise<SurveyResponse[]> {
  const a = page.after;
  const rows = await sql.query<ResponseRowDb>(
    `SELECT * FROM survey_responses WHERE workspace_id = $1 AND survey_id = $2
       AND (profile_id, question_id) > ($3, $4)
     ORDER BY profile_id, question_id LIMIT $5`,
    [ws, surveyId, a?.profileId ?? '', a?.questionId ?? '', page.limit],
  );
  return rows.map(surveyResponse);
}

export async function addFeedback(sql: Sql, ws: string, f: Feedback): Promise<void> {
  const rows = await sql.query(`${FEEDBACK_INSERT} ON CONFLICT DO NOTHING RETURNING 1`, [
    feedbackRecordset(ws, [f]),
  ]);
  if (rows.length === 0) throw new ConflictError(`feedback ${f.id} already exists`);
}

export async function getFeedback(sql: Sql, ws: string, id: string): Promise<Feedback | null> {
  const rows = await sql.query<FeedbackRowDb>(
    `SELECT ${FEEDBACK_COLUMNS} FROM feedback WHERE workspace_id = $1 AND id = $2`,
    [ws, id],
  );
  return rows[0] ? feedback(rows[0]) : null;
}

export async function tagFeedback(
  sql: Sql,
  ws: string,
  id: string,
  tags: FeedbackTags,
  now: number,
): Promise<Feedback | null> {
  const rows = await sql.query<FeedbackRowDb>(
    `UPDATE feedback SET sentiment = CASE WHEN $3 THEN $4 ELSE sentiment END,
       topics = COALESCE($5::jsonb, topics), updated_at = $6
     WHERE workspace_id = $1 AND id = $2 RETURNING ${FEEDBACK_COLUMNS}`,
    [
      ws,
      id,
      tags.sentiment !== undefined,
      tags.sentiment ?? null,
      tags.topics === undefined ? null : JSON.stringify(tags.topics),
      now,
    ],
  );
  return rows[0] ? feedback(rows[0]) : null;
}

export async function listFeedback(sql: Sql, ws: string, q: FeedbackQuery): Promise<Feedback[]> {
  const where = ['workspace_id = $1'];
  const args: unknown[] = [ws];
  const add = (clause: (n: string) => string, v: unknown) => {
    args.push(v);
    where.push(clause(`$${args.length}`));
  };
  if (q.profileId !== undefined) add((n) => `profile_id = ${n}`, q.profileId);
  if (q.source !== undefined) add((n) => `source = ${n}`, q.source);
  if (q.sentiment !== undefined) add((n) => `sentiment = ${n}`, q.sentiment);
  if (q.surveyId !== undefined) add((n) => `survey_id = ${n}`, q.surveyId);
  if (q.journeyId !== undefined) add((n) => `journey_id = ${n}`, q.journeyId);
  if (q.topic !== undefined) add((n) => `topics ? ${n}`, q.topic);
  if (q.text !== undefined) add((n) => `strpos(search, ${n}) > 0`, searchText(q.text));
  if (q.before) {
    args.push(q.before.createdAt, q.before.id);
    where.push(`(created_at, id) < ($${args.length - 1}, $${args.length})`);
  }
  args.push(q.limit);
  const rows = await sql.query<FeedbackRowDb>(
    `SELECT ${FEEDBACK_COLUMNS} FROM feedback WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, id DESC LIMIT $${args.length}`,
    args,
  );
  return rows.map(feedback);
}

/**
 * A merge moves the merged-away profiles' survey answers and feedback to their survivors. Where both
 * answered the same question, the survivor's answer (and its comment) is kept and the other dropped.
 * One merge at a time, so two profiles merged into one in the same batch cannot both claim a question.
 */
export async function mergeSurveyAnswers(
  sql: Sql,
  ws: string,
  merges: readonly { from: string; into: string }[],
): Promise<void> {
  for (const m of merges) {
    await sql.query(
      `UPDATE survey_responses r SET profile_id = $3
       WHERE r.workspace_id = $1 AND r.profile_id = $2
         AND NOT EXISTS (SELECT 1 FROM survey_responses k WHERE k.workspace_id = $1 AND k.survey_id = r.survey_id
                         AND k.question_id = r.question_id AND k.profile_id = $3)`,
      [ws, m.from, m.into],
    );
    await sql.query(
      `UPDATE feedback f SET profile_id = $3
       WHERE f.workspace_id = $1 AND f.profile_id = $2
         AND (f.source <> 'survey' OR NOT EXISTS (
           SELECT 1 FROM feedback k WHERE k.workspace_id = $1 AND k.source = 'survey' AND k.survey_id = f.survey_id
             AND k.question_id = f.question_id AND k.profile_id = $3))`,
      [ws, m.from, m.into],
    );
    await sql.query('DELETE FROM survey_responses WHERE workspace_id = $1 AND profile_id = $2', [ws, m.from]);
    await sql.query('DELETE FROM feedback WHERE workspace_id = $1 AND profile_id = $2', [ws, m.from]);
  }
}
