import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LinkSigner, SurveyLink } from '../channels/links.js';
import { MAX_TEXT } from '../domain/surveys/survey.js';
import type { SurveyService } from '../engine/surveys/service.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { escape, page } from './unsubscribe-routes.js';

/**
 * The one-click survey links of e-mails (docs/surveys.md#e-mail-links). Fetching `/s/<token>` records
 * the score the link carries on the profile it names, then shows a thank-you page whose form adds a
 * comment (POST, same token). The token is signed: a forged or edited link records nothing.
 *
 * A GET records, unlike the unsubscribe link's: a survey answer is undone by answering again, and a
 * second step would cost most answers. A HEAD request (what some link checkers send) records nothing.
 */
export function registerSurveyPages(
  app: FastifyInstance,
  deps: { links: LinkSigner; surveys: SurveyService },
): void {
  const invalid = (reply: FastifyReply) =>
    page(reply, 404, 'Link not valid', '<p>This survey link is not valid. Nothing was recorded.</p>');

  const record = async (
    req: FastifyRequest,
    reply: FastifyReply,
    link: SurveyLink,
    comment: string | null,
  ) => {
    try {
      await deps.surveys.answer(
        link.ws,
        link.survey,
        { profileId: link.profile },
        [{ question: link.question, value: link.value, comment }],
        { source: 'link', journeyId: link.journey, messageKey: link.message, fieldOf: (_, f) => f },
      );
    } catch (err) {
      if (err instanceof NotFoundError) return invalid(reply);
      if (err instanceof ConflictError)
        return page(reply, 410, 'Survey closed', '<p>This survey has closed. Thank you all the same.</p>');
      if (err instanceof ValidationError) {
        const issues = err.issues.map((i) => `<li>${escape(`${i.field}: ${i.rule}`)}</li>`).join('');
        return page(reply, 400, 'Not recorded', `<p>Nothing was recorded:</p><ul>${issues}</ul>`);
      }
      throw err;
    }
    req.log.debug({ survey: link.survey }, 'survey answer recorded');
    return null;
  };

  const thanks = (reply: FastifyReply, commented: boolean) =>
    page(
      reply,
      200,
      'Thank you',
      commented
        ? '<p>Thank you for your answer and your comment.</p>'
        : '<p>Your answer is recorded. Anything you would like to add?</p>' +
            `<form method="post"><label>Comment<br><textarea name="comment" rows="5" cols="40" maxlength="${MAX_TEXT}"></textarea></label>` +
            '<button type="submit">Send</button></form>',
    );

  app.get<{ Params: { token: string } }>('/s/:token', async (req, reply) => {
    const link = deps.links.readSurvey(req.params.token);
    if (!link) return invalid(reply);
    if (req.method !== 'HEAD') {
      const failed = await record(req, reply, link, null);
      if (failed) return failed;
    }
    return thanks(reply, false);
  });

  app.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>(
    '/s/:token',
    async (req, reply) => {
      const link = deps.links.readSurvey(req.params.token);
      if (!link) return invalid(reply);
      const raw = req.body?.['comment'];
      const comment = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : null;
      const failed = await record(req, reply, link, comment);
      return failed ?? thanks(reply, comment !== null);
    },
  );
}
