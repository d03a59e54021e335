/** Surveys, answers and feedback on SQLite: writes inside the writer's transaction, reads on the reader. */
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
import type { Prepare } from './statements.js';

export function putSurvey(
  prep: Prepare,
  ws: string,
  s: SurveyPut,
  mode: 'create' | 'replace',
  now: number,
): SurveyRecord {
  const named = prep('SELECT id FROM surveys WHERE workspace_id = ? AND name = ?').pluck().get(ws, s.name) as
    string | undefined;
  if (named !== undefined && named !== s.id)
    throw new ConflictError(`a survey named "${s.name}" already exists`);
  const definition = JSON.stringify(s.definition);
  if (mode === 'create') {
    const added = prep(
      `INSERT OR IGNORE INTO surveys (workspace_id, id, name, status, template, definition, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(ws, s.id, s.name, s.status, s.template, definition, now, now);
    if (added.changes === 0) throw new ConflictError(`survey ${s.id} already exists`);
  } else {
    const changed = prep(
      'UPDATE surveys SET name = ?, status = ?, definition = ?, updated_at = ? WHERE workspace_id = ? AND id = ?',
    ).run(s.name, s.status, definition, now, ws, s.id);
    if (changed.changes === 0) throw new NotFoundError(`survey ${s.id} not found`);
  }
  return getSurvey(prep, ws, s.id)!;
}

export function getSurvey(r: Prepare, ws: string, id: string): SurveyRecord | null {
  const row = r('SELECT * FROM surveys WHERE workspace_id = ? AND id = ?').get(ws, id) as
    SurveyRowDb | undefined;
  return row ? surveyRecord(row) : null;
}

export function listSurveys(r: Prepare, ws: string): SurveyRecord[] {
  return (r('SELECT * FROM surveys WHERE workspace_id = ? ORDER BY name').all(ws) as SurveyRowDb[]).map(
    surveyRecord,
  );
}

export function recordSurveyResponses(
  prep: Prepare,
  ws: string,
  responses: readonly SurveyResponse[],
  comments: readonly Feedback[],
): void {
  const put = prep(
    `INSERT INTO survey_responses (workspace_id, survey_id, question_id, profile_id, value, score, comment,
       answered_at, source, journey_id, message_key)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, survey_id, profile_id, question_id) DO UPDATE SET value = excluded.value,
       score = excluded.score, comment = excluded.comment, answered_at = excluded.answered_at,
       source = excluded.source, journey_id = excluded.journey_id, message_key = excluded.message_key`,
  );
  for (const a of responses) {
    put.run(
      ws,
      a.surveyId,
      a.questionId,
      a.profileId,
      JSON.stringify(a.value),
      a.score,
      a.comment,
      a.answeredAt,
      a.source,
      a.journeyId,
      a.messageKey,
    );
  }
  const comment = prep(
    `INSERT INTO feedback (workspace_id, id, profile_id, source, author, text, search, sentiment, topics,
       survey_id, question_id, journey_id, message_key, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (workspace_id, survey_id, question_id, profile_id) WHERE source = 'survey'
     DO UPDATE SET text = excluded.text, search = excluded.search, journey_id = excluded.journey_id,
       message_key = excluded.message_key, updated_at = excluded.updated_at`,
  );
  for (const f of comments) comment.run(...feedbackParams(ws, f));
}

function feedbackParams(ws: string, f: Feedback): unknown[] {
  return [
    ws,
    f.id,
    f.profileId,
    f.source,
    f.author,
    f.text,
    searchText(f.text),
    f.sentiment,
    JSON.stringify(f.topics),
    f.surveyId,
    f.questionId,
    f.journeyId,
    f.messageKey,
    f.createdAt,
    f.updatedAt,
  ];
}

export function listSurveyResponses(
  r: Prepare,
  ws: string,
  surveyId: string,
  page: { limit: number; after?: { profileId: string; questionId: string } },
): SurveyResponse[] {
  const a = page.after;
  const rows = r(
    `SELECT * FROM survey_responses WHERE workspace_id = ? AND survey_id = ?
       AND (profile_id > ? OR (profile_id = ? AND question_id > ?))
     ORDER BY profile_id, question_id LIMIT ?`,
  ).all(
    ws,
    surveyId,
    a?.profileId ?? '',
    a?.profileId ?? '',
    a?.questionId ?? '',
    page.limit,
  ) as ResponseRowDb[];
  return rows.map(surveyResponse);
}

export function addFeedback(prep: Prepare, ws: string, f: Feedback): void {
  const added = prep(
    `INSERT OR IGNORE INTO feedback (workspace_id, id, profile_id, source, author, text, search, sentiment, topics,
       survey_id, question_id, journey_id, message_key, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(...feedbackParams(ws, f));
  if (added.changes === 0) throw new ConflictError(`feedback ${f.id} already exists`);
}

export function getFeedback(r: Prepare, ws: string, id: string): Feedback | null {
  const row = r(`SELECT ${FEEDBACK_COLUMNS} FROM feedback WHERE workspace_id = ? AND id = ?`).get(ws, id) as
    FeedbackRowDb | undefined;
  return row ? feedback(row) : null;
}

export function tagFeedback(
  prep: Prepare,
  ws: string,
  id: string,
  tags: FeedbackTags,
  now: number,
): Feedback | null {
  const current = getFeedback(prep, ws, id);
  if (!current) return null;
  prep('UPDATE feedback SET sentiment = ?, topics = ?, updated_at = ? WHERE workspace_id = ? AND id = ?').run(
    tags.sentiment === undefined ? current.sentiment : tags.sentiment,
    JSON.stringify(tags.topics ?? current.topics),
    now,
    ws,
    id,
  );
  return getFeedback(prep, ws, id);
}

export function listFeedback(r: Prepare, ws: string, q: FeedbackQuery): Feedback[] {
  const where = ['workspace_id = ?'];
  const args: unknown[] = [ws];
  const eq = (column: string, v: string | undefined) => {
    if (v === undefined) return;
    where.push(`${column} = ?`);
    args.push(v);
  };
  eq('profile_id', q.profileId);
  eq('source', q.source);
  eq('sentiment', q.sentiment);
  eq('survey_id', q.surveyId);
  eq('journey_id', q.journeyId);
  if (q.topic !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(topics) WHERE value = ?)');
    args.push(q.topic);
  }
  if (q.text !== undefined) {
    where.push('instr(search, ?) > 0');
    args.push(searchText(q.text));
  }
  if (q.before) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    args.push(q.before.createdAt, q.before.createdAt, q.before.id);
  }
  const rows = r(
    `SELECT ${FEEDBACK_COLUMNS} FROM feedback WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
  ).all(...args, q.limit) as FeedbackRowDb[];
  return rows.map(feedback);
}

/**
 * A merge moves the merged-away profile's survey answers and feedback to the survivor. Where both
 * answered the same question, the survivor's answer (and its comment) is kept and the other dropped:
 * one person, one answer per question.
 */
export function mergeSurveyAnswers(prep: Prepare, ws: string, from: string, into: string): void {
  for (const table of ['survey_responses', 'feedback'] as const) {
    const index = table === 'feedback' ? 'feedback_by_profile' : 'survey_responses_by_profile';
    prep(
      `UPDATE OR IGNORE ${table} INDEXED BY ${index} SET profile_id = ? WHERE workspace_id = ? AND profile_id = ?`,
    ).run(into, ws, from);
    prep(`DELETE FROM ${table} INDEXED BY ${index} WHERE workspace_id = ? AND profile_id = ?`).run(ws, from);
  }
}
