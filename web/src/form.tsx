import { useState } from 'preact/hooks';
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

/**
 * A labelled text input with the server's rules for its field under it. `field` is the path the
 * form sends the value at; extra attributes (type, class, placeholder, list…) go to the input.
 */
export function TextField(props: {
  label: string;
  value: string;
  onValue: (v: string) => void;
  error: unknown;
  field: string;
  labelClass?: string;
  class?: string;
  type?: 'text' | 'date' | 'datetime-local' | 'password';
  placeholder?: string;
  list?: string;
  autoComplete?: string;
}) {
  const { label, value, onValue, error, field, labelClass, ...rest } = props;
  return (
    <label class={labelClass}>
      {label}
      {/* The attributes are plain strings; preact types tie `list` to some input types only. */}
      <input {...(rest as object)} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
      <FieldError error={error} field={field} />
    </label>
  );
}

/**
 * A destructive action in two steps: the first button asks, the second (named for what it does)
 * acts, and Cancel steps back. Keyboard and screen readers reach both.
 */
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => void }) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="actions">
      <button
        type="button"
        class="danger"
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t('common.cancel')}
      </button>
    </span>
  );
}
