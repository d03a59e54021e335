import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { testEvent } from '../../src/domain/testing.js';
import type { Store } from '../../src/store/store.js';
import type { Feedback, SurveyResponse } from '../../src/store/survey-store.js';
import type { StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 5, 1, 12);

const answer = (over: Partial<SurveyResponse>): SurveyResponse => ({
  surveyId: 'sv1',
  questionId: 'nps',
  profileId: 'p1',
  value: 9,
  score: 9,
  comment: null,
  answeredAt: T0,
  source: 'api',
  journeyId: null,
  messageKey: null,
  ...over,
});

const note = (over: Partial<Feedback>): Feedback => ({
  id: 'fb1',
  profileId: 'p1',
  source: 'support',
  author: 'kim',
  text: 'Delivery was late',
  sentiment: null,
  topics: [],
  surveyId: null,
  questionId: null,
  journeyId: null,
  messageKey: null,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

/** Surveys, answers and feedback (src/store/survey-store.ts), on every adapter. */
export function surveyContract(name: string, harness: () => StoreHarness): void {
  describe(`${name} survey store contract`, () => {
    let store: Store;
    let ws: string;

    beforeEach(async () => {
      const h = harness();
      await h.reset();
      store = await h.open(new ManualClock(T0));
      await store.migrate();
      ws = (await store.createWorkspace({ name: 'shop', writeKeyHash: 'w', adminKeyHash: 'a' })).id;
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates, replaces and lists surveys; refuses a taken id or name and a missing survey', async () => {
      const def = { description: null, questions: [{ id: 'nps', kind: 'nps', text: '今日は?' }] };
      const s = { id: 'sv1', name: 'Q1', status: 'active' as const, template: null, definition: def };
      expect(await store.putSurvey(ws, s, 'create', T0)).toEqual({ ...s, createdAt: T0, updatedAt: T0 });
      await expect(store.putSurvey(ws, s, 'create', T0)).rejects.toThrow(/already exists/);
      await expect(store.putSurvey(ws, { ...s, id: 'sv2' }, 'create', T0)).rejects.toThrow(
        /a survey named "Q1" already exists/,
      );
      await store.putSurvey(ws, { ...s, id: 'sv0', name: 'A first' }, 'create', T0);
      const archived = await store.putSurvey(
        ws,
        { ...s, status: 'archived', name: 'Q1b' },
        'replace',
        T0 + 5,
      );
      expect(archived).toMatchObject({ status: 'archived', name: 'Q1b', createdAt: T0, updatedAt: T0 + 5 });
      await expect(store.putSurvey(ws, { ...s, id: 'nope' }, 'replace', T0)).rejects.toThrow(/not found/);
      await expect(store.putSurvey(ws, { ...s, name: 'A first' }, 'replace', T0)).rejects.toThrow(
        /already exists/,
      );
      expect((await store.listSurveys(ws)).map((x) => x.id)).toEqual(['sv0', 'sv1']);
      expect(await store.getSurvey(ws, 'sv1')).toMatchObject({ definition: def });
      expect(await store.getSurvey('other', 'sv1')).toBeNull();
    });

    it('keeps one answer per profile and question, replaced by the next, with text values and comments', async () => {
      await store.recordSurveyResponses(
        ws,
        [
          answer({}),
          answer({ questionId: 'two_years', value: 'yes', score: null }),
          answer({ profileId: 'p2', value: 3, score: 3, comment: 'slow' }),
        ],
        [],
      );
      await store.recordSurveyResponses(
        ws,
        [
          answer({
            value: 4,
            score: 4,
            comment: 'changed my mind',
            answeredAt: T0 + 1,
            source: 'link',
            journeyId: 'j1',
            messageKey: 'm1',
          }),
        ],
        [],
      );
      const all = await store.listSurveyResponses(ws, 'sv1', { limit: 10 });
      expect(all.map((a) => [a.profileId, a.questionId, a.value, a.score])).toEqual([
        ['p1', 'nps', 4, 4],
        ['p1', 'two_years', 'yes', null],
        ['p2', 'nps', 3, 3],
      ]);
      expect(all[0]).toEqual(
        answer({
          value: 4,
          score: 4,
          comment: 'changed my mind',
          answeredAt: T0 + 1,
          source: 'link',
          journeyId: 'j1',
          messageKey: 'm1',
        }),
      );
      const page2 = await store.listSurveyResponses(ws, 'sv1', {
        limit: 10,
        after: { profileId: 'p1', questionId: 'nps' },
      });
      expect(page2.map((a) => a.questionId)).toEqual(['two_years', 'nps']);
      expect(await store.listSurveyResponses(ws, 'other', { limit: 10 })).toEqual([]);
    });

    it('keeps one survey feedback per answer: a new comment replaces the text and keeps the tags', async () => {
      const comment = note({
        id: 'c1',
        source: 'survey',
        author: null,
        surveyId: 'sv1',
        questionId: 'nps',
        text: 'Great staff',
      });
      await store.recordSurveyResponses(ws, [answer({ comment: 'Great staff' })], [comment]);
      await store.tagFeedback(ws, 'c1', { sentiment: 'good', topics: ['staff'] }, T0 + 1);
      await store.recordSurveyResponses(
        ws,
        [answer({ comment: 'Great staff, slow site' })],
        [{ ...comment, id: 'c2', text: 'Great staff, slow site', updatedAt: T0 + 2 }],
      );
      const list = await store.listFeedback(ws, { limit: 10 });
      expect(list).toEqual([
        {
          ...comment,
          text: 'Great staff, slow site',
          sentiment: 'good',
          topics: ['staff'],
          updatedAt: T0 + 2,
        },
      ]);
    });

    it('moves answers and feedback to the survivor of a merge; the survivor’s answer to a shared question wins', async () => {
      const ingest = (e: Parameters<typeof testEvent>[0]) =>
        store.ingest(ws, [testEvent({ timestamp: T0, ...e })]);
      await ingest({ anonymousId: 'anon-1' });
      await ingest({ type: 'identify', userId: 'u1' });
      const anon = (await store.lookupProfile(ws, { kind: 'anonymous_id', value: 'anon-1' }))!.id;
      const known = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      expect(anon).not.toBe(known);
      const surveyNote = (id: string, profileId: string, text: string) =>
        note({ id, profileId, source: 'survey', author: null, surveyId: 'sv1', questionId: 'nps', text });
      await store.recordSurveyResponses(
        ws,
        [
          answer({ profileId: anon, value: 2, score: 2, comment: 'as a visitor' }),
          answer({ profileId: anon, questionId: 'two_years', value: 'yes', score: null }),
          answer({ profileId: known, value: 10, score: 10, comment: 'as a customer' }),
        ],
        [surveyNote('c-anon', anon, 'as a visitor'), surveyNote('c-known', known, 'as a customer')],
      );
      await store.addFeedback(ws, note({ id: 'staff-1', profileId: anon, text: 'Called about delivery' }));
      await ingest({ type: 'identify', userId: 'u1', anonymousId: 'anon-1', messageId: 'join' });
      const survivor = (await store.lookupProfile(ws, { kind: 'user_id', value: 'u1' }))!.id;
      const gone = survivor === known ? anon : known;
      const answers = await store.listSurveyResponses(ws, 'sv1', { limit: 10 });
      expect(answers.every((a) => a.profileId === survivor)).toBe(true);
      const nps = answers.filter((a) => a.questionId === 'nps');
      expect(nps).toHaveLength(1);
      expect(nps[0]!.value).toBe(survivor === known ? 10 : 2);
      expect(answers.some((a) => a.questionId === 'two_years')).toBe(true);
      const mine = await store.listFeedback(ws, { profileId: survivor, limit: 10 });
      expect(mine.map((f) => f.id).sort()).toEqual(
        ['staff-1', survivor === known ? 'c-known' : 'c-anon'].sort(),
      );
      expect(await store.listFeedback(ws, { profileId: gone, limit: 10 })).toEqual([]);
    });

    it('posts, tags, filters and searches feedback, newest first, paging by cursor', async () => {
      await store.addFeedback(ws, note({ id: 'a', text: 'Delivery was LATE again', createdAt: T0 }));
      await store.addFeedback(
        ws,
        note({
          id: 'b',
          source: 'employee',
          text: 'Loves the ＮＥＷ bag',
          profileId: 'p2',
          createdAt: T0 + 1,
        }),
      );
      await store.addFeedback(ws, note({ id: 'c', text: '配送が遅い', journeyId: 'j1', createdAt: T0 + 1 }));
      await expect(store.addFeedback(ws, note({ id: 'a' }))).rejects.toThrow(/already exists/);
      expect(
        await store.tagFeedback(ws, 'a', { sentiment: 'awful', topics: ['delivery', 'late'] }, T0 + 9),
      ).toMatchObject({
        sentiment: 'awful',
        topics: ['delivery', 'late'],
        updatedAt: T0 + 9,
      });
      expect(await store.tagFeedback(ws, 'a', { topics: ['delivery'] }, T0 + 10)).toMatchObject({
        sentiment: 'awful',
        topics: ['delivery'],
      });
      expect(await store.tagFeedback(ws, 'a', { sentiment: null }, T0 + 11)).toMatchObject({
        sentiment: null,
      });
      expect(await store.tagFeedback(ws, 'zz', { sentiment: 'good' }, T0)).toBeNull();
      const ids = async (q: Parameters<Store['listFeedback']>[1]) =>
        (await store.listFeedback(ws, q)).map((f) => f.id);
      expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
      expect(await ids({ limit: 1, before: { createdAt: T0 + 1, id: 'c' } })).toEqual(['b']);
      expect(await ids({ limit: 10, before: { createdAt: T0 + 1, id: 'b' } })).toEqual(['a']);
      expect(await ids({ limit: 10, text: 'late' })).toEqual(['a']);
      expect(await ids({ limit: 10, text: 'new B' })).toEqual(['b']);
      expect(await ids({ limit: 10, text: '遅い' })).toEqual(['c']);
      expect(await ids({ limit: 10, text: '%' })).toEqual([]);
      expect(await ids({ limit: 10, topic: 'delivery' })).toEqual(['a']);
      expect(await ids({ limit: 10, source: 'employee' })).toEqual(['b']);
      expect(await ids({ limit: 10, profileId: 'p1' })).toEqual(['c', 'a']);
      expect(await ids({ limit: 10, journeyId: 'j1' })).toEqual(['c']);
      expect(await store.getFeedback(ws, 'b')).toMatchObject({ author: 'kim', text: 'Loves the ＮＥＷ bag' });
      expect(await store.getFeedback('other', 'b')).toBeNull();
    });
  });
}
