import { ApiError, type Issue } from './api.js';
import { useT } from './i18n.js';
import { errorText } from './ui.js';

/** The field issues of a 400 answer (none for any other error). */
export function issuesOf(error: unknown): Issue[] {
  return error instanceof ApiError ? error.issues : [];
}

/** An issue belongs to a field when it names it or something inside it (`steps[0]` → `steps[0].event`). */
const under = (issue: string, field: string) =>
  issue === field || issue.startsWith(`${field}.`) || issue.startsWith(`${field}[`);

/**
 * The server's rules for one field, shown right under it: the API names each bad field by its path
 * in the request body (`steps[1].event`, `quiet_hours.start`), and the form passes the path it sent.
 */
export function FieldError(props: { error: unknown; field: string }) {
  const mine = issuesOf(props.error).filter((i) => under(i.field, props.field));
  if (mine.length === 0) return null;
  return (
    <span class="field-error" role="alert" data-field={props.field}>
      {mine.map((i) => (i.field === props.field ? i.rule : `${i.field}: ${i.rule}`)).join('; ')}
    </span>
  );
}

/**
 * The rest of an error: the message, and the issues no field on the form shows (so nothing the
 * server said is lost). `fields` lists the paths the form shows next to its fields.
 */
export function FormError(props: { error: unknown; fields: string[] }) {
  const t = useT();
  if (props.error === null || props.error === undefined) return null;
  const e = props.error;
  const rest = issuesOf(e).filter((i) => !props.fields.some((f) => under(i.field, f)));
  const denied = e instanceof ApiError && e.status === 403;
  return (
    <div class="error" role="alert" data-testid="form-error">
      <strong>{denied ? t('error.denied') : t('error.title')}</strong> {errorText(e)}
      {rest.length > 0 && (
        <ul>
          {rest.map((i) => (
            <li key={i.field}>
              <code>{i.field}</code>: {i.rule}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
