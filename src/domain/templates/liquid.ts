/**
 * The sandboxed Liquid engines (liquidjs). Templates are written by workspace staff and rendered for
 * every customer, so the engines read no files (`include` and `render` find nothing), see only own
 * properties of the values they are given, refuse unknown filters at parse time, and bound parse size,
 * render time and memory (a `for` over a huge range fails instead of filling the heap). Undefined
 * variables are errors (a message never says "Hello {{name}}" or "Hello "), except inside `if` and as
 * the input of the `default` filter, where they are false and null.
 */
import { Liquid, type Template } from 'liquidjs';

interface Locale {
  readonly locale: string;
  readonly timezone: string | null;
  readonly currency: string;
}

/** The locale settings a render passes to the filters (under a key templates do not use). */
export const LOCALE_KEY = '_kizuna';

const OPTIONS = {
  templates: {},
  strictVariables: true,
  lenientIf: true,
  strictFilters: true,
  ownPropertyOnly: true,
  parseLimit: 1_000_000,
  renderLimit: 200,
  memoryLimit: 16_000_000,
};

function localeOf(ctx: { getSync(paths: PropertyKey[]): unknown }): Locale {
  return (
    (ctx.getSync([LOCALE_KEY]) as Locale | undefined) ?? { locale: 'en', timezone: null, currency: 'JPY' }
  );
}

function toDate(v: unknown): Date | null {
  if (v === 'now' || v === 'today') return new Date();
  if (typeof v === 'number') return new Date(v);
  if (typeof v === 'string' && v !== '') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return v instanceof Date ? v : null;
}

const DATE_STYLES: Record<string, Intl.DateTimeFormatOptions> = {
  short: { dateStyle: 'short' },
  medium: { dateStyle: 'medium' },
  long: { dateStyle: 'long' },
  full: { dateStyle: 'full' },
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  time: { timeStyle: 'short' },
};

function register(engine: Liquid): Liquid {
  /** `{{ 1200 | money }}`: in the customer's currency (trait `currency`, else JPY) and locale. */
  engine.registerFilter(
    'money',
    function (this: { context: Parameters<typeof localeOf>[0] }, value: unknown, currency?: unknown) {
      const l = localeOf(this.context);
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n)) return value;
      const code = typeof currency === 'string' && currency !== '' ? currency : l.currency;
      try {
        return new Intl.NumberFormat(l.locale, { style: 'currency', currency: code }).format(n);
      } catch {
        return new Intl.NumberFormat('en', { style: 'currency', currency: 'JPY' }).format(n);
      }
    },
  );
  /** `{{ event.time | local_date: "long" }}`: a date in the customer's own time zone and locale. */
  engine.registerFilter(
    'local_date',
    function (this: { context: Parameters<typeof localeOf>[0] }, value: unknown, style?: unknown) {
      const l = localeOf(this.context);
      const d = toDate(value);
      if (!d) return value;
      const opts = DATE_STYLES[typeof style === 'string' ? style : 'medium'] ?? DATE_STYLES['medium']!;
      const tz = l.timezone ?? 'UTC';
      try {
        return new Intl.DateTimeFormat(l.locale, { ...opts, timeZone: tz }).format(d);
      } catch {
        return new Intl.DateTimeFormat('en', { ...opts, timeZone: 'UTC' }).format(d);
      }
    },
  );
  /** `{% assign fresh = list | not_bought %}`: drops the items (or ids) the customer bought. */
  engine.registerFilter(
    NOT_BOUGHT,
    function (this: { context: Parameters<typeof localeOf>[0] }, value: unknown) {
      if (!Array.isArray(value)) return value;
      const bought = new Set(boughtOf(this.context));
      return (value as unknown[]).filter((v) => !bought.has(itemId(v) ?? ''));
    },
  );
  return engine;
}

export const NOT_BOUGHT = 'not_bought';

function boughtOf(ctx: { getSync(paths: PropertyKey[]): unknown }): string[] {
  try {
    const b = ctx.getSync(['bought']);
    return Array.isArray(b) ? b.map(String) : [];
  } catch {
    return [];
  }
}

/** An item's id: the value itself, or its `id` or `product_id`. */
function itemId(v: unknown): string | null {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const id = Object.hasOwn(o, 'id') ? o['id'] : Object.hasOwn(o, 'product_id') ? o['product_id'] : null;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/** Whether Liquid `source` applies the filter `name` in an output or a tag (`{{ x | name }}`). */
export function usesFilter(source: string, name: string): boolean {
  return new RegExp(`\\{[{%][^}]*\\|\\s*${name}\\b`).test(source);
}

/** For HTML fields: every output is HTML-escaped unless the template says `| raw`. */
export const htmlEngine = register(new Liquid({ ...OPTIONS, outputEscape: 'escape' }));
/** For plain-text fields (subjects, SMS, push): output as is. */
export const textEngine = register(new Liquid(OPTIONS));

export function parseLiquid(engine: Liquid, source: string): Template[] {
  return engine.parse(source);
}

/** Why `source` does not parse, with line and column, or null when it does. */
export function syntaxError(source: string): string | null {
  try {
    textEngine.parse(source);
    return null;
  } catch (err) {
    return liquidMessage(err);
  }
}

/** A Liquid error in words: `line 2, column 3: undefined filter: nope`. */
export function liquidMessage(err: unknown): string {
  const e = err as { message?: string; token?: { getPosition?: () => [number, number] } };
  const message = (e.message ?? String(err)).replace(/, line:\d+, col:\d+$/, '');
  const pos = e.token?.getPosition?.();
  return pos ? `line ${pos[0]}, column ${pos[1]}: ${message}` : message;
}
