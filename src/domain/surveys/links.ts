/**
 * Survey links for templates (docs/surveys.md#e-mail-links): `{{ surveys.<survey id>.links }}` lists
 * one signed one-click link per score of the survey's first scale or choice question, and
 * `{{ surveys.<id>.questions.<question id>.links }}` those of any question. Links are signed only
 * when a template reads them; an unknown or archived survey is an undefined variable, so the send is
 * skipped with the reason rather than mailed without its buttons.
 */
import { Drop } from 'liquidjs';
import { linkValues, type AnswerValue, type Question, type Survey } from './survey.js';

export type SignAnswer = (survey: Survey, question: Question, value: AnswerValue) => string;

export interface LiquidLink {
  readonly value: AnswerValue;
  readonly url: string;
}

const linksOf = (s: Survey, q: Question, sign: SignAnswer): LiquidLink[] =>
  linkValues(q).map((value) => ({ value, url: sign(s, q, value) }));

class QuestionsDrop extends Drop {
  constructor(
    private readonly survey: Survey,
    private readonly sign: SignAnswer,
  ) {
    super();
  }
  override liquidMethodMissing(key: string | number): unknown {
    const q = this.survey.questions.find((x) => x.id === String(key));
    return q && { id: q.id, text: q.text, links: linksOf(this.survey, q, this.sign) };
  }
}

class SurveyDrop extends Drop {
  constructor(
    private readonly survey: Survey,
    private readonly sign: SignAnswer,
  ) {
    super();
  }
  override liquidMethodMissing(key: string | number): unknown {
    const s = this.survey;
    if (key === 'id') return s.id;
    if (key === 'name') return s.name;
    if (key === 'questions') return new QuestionsDrop(s, this.sign);
    if (key === 'question' || key === 'links') {
      const first = s.questions.find((q) => linkValues(q).length > 0);
      if (!first) return undefined;
      return key === 'question' ? first.text : linksOf(s, first, this.sign);
    }
    return undefined;
  }
}

/** The `surveys` template variable over a workspace's active surveys. */
export class SurveysDrop extends Drop {
  constructor(
    private readonly surveys: readonly Survey[],
    private readonly sign: SignAnswer,
  ) {
    super();
  }
  override liquidMethodMissing(key: string | number): unknown {
    const s = this.surveys.find((x) => x.id === String(key) && x.status === 'active');
    return s && new SurveyDrop(s, this.sign);
  }
}
