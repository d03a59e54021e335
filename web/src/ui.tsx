import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { useT } from './i18n.js';

export interface Async<V> {
  data: V | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change and keeps its result, error and loading state. An answer that
 * arrives after the inputs changed again is dropped, so a slow request never overwrites a newer one.
 */
export function useAsync<V>(load: () => Promise<V>, deps: unknown[]): Async<V> {
  const [state, setState] = useState<{ data?: V; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** An API error in words: the server's message, each issue with its field and rule, the status. */
export function ErrorBox(props: { error: unknown }) {
  const t = useT();
  const e = props.error;
  const denied = e instanceof ApiError && e.status === 403;
  return (
    <div class="error" role="alert">
      <strong>{denied ? t('error.denied') : t('error.title')}</strong> {errorText(e)}
      {e instanceof ApiError && e.issues.length > 0 && (
        <ul>
          {e.issues.map((i) => (
            <li key={i.field}>
              <code>{i.field}</code>: {i.rule}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading() {
  const t = useT();
  return (
    <p class="muted" aria-busy="true">
      {t('common.loading')}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

/** Loading, error or the content, for one async value. */
export function Show<V>(props: { value: Async<V>; children: (v: V) => ComponentChildren }) {
  if (props.value.error) return <ErrorBox error={props.value.error} />;
  if (props.value.data === undefined) return <Loading />;
  return <>{props.children(props.value.data)}</>;
}

export function Card(props: { title: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; note?: string; testid?: string }) {
  return (
    <div class="stat" data-testid={props.testid}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.note && <div class="stat-note">{props.note}</div>}
    </div>
  );
}

export function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}
