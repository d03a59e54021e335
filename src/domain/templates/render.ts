/**
 * Rendering a template for one customer: pick the variant for the customer's locale, fill declared
 * defaults for variables the customer lacks, render every field, and answer either the content or
 * why it cannot be sent (a variable with no value and no default, a field over the size limit, a
 * render that ran out of time or memory). Never a half-filled message.
 */
import { Drop, type Template } from 'liquidjs';
import { htmlEngine, liquidMessage, LOCALE_KEY, NOT_BOUGHT, textEngine, usesFilter } from './liquid.js';
import { TEMPLATE_CHANNELS, type TemplateDefinition } from './template.js';
import { poolsUsed } from '../coupons.js';
import { liquidItem, type RecommendedItem } from '../recommendations.js';
import { placesTransparencyLink } from './footer.js';

/** the largest rendered field */
export const MAX_FIELD_OUTPUT = 256 * 1024;

export interface CompiledTemplate {
  readonly definition: TemplateDefinition;
  readonly version: number;
  /** locale → field → parsed Liquid */
  readonly variants: ReadonlyMap<string, ReadonlyMap<string, Template[]>>;
  /** the coupon pools the template draws codes from (`{{ coupon.spring }}`) */
  readonly pools: readonly string[];
  /** whether it reads the triggering event (`event.name`, `event.properties`) */
  readonly usesEvent: boolean;
  /** whether it shows the signed e-mail links (`preferences_url`, `unsubscribe_url`, `transparency_url`) */
  readonly usesLinks: boolean;
  /** whether it places `transparency_url` itself (else a marketing e-mail gets the footer) */
  readonly placesTransparency: boolean;
  /** whether it shows survey answer links (`surveys.<id>.links`) */
  readonly usesSurveys: boolean;
  /** what of the catalogue a render needs (docs/catalog.md): a send loads nothing else */
  readonly catalog: { readonly recommendations: boolean; readonly bought: boolean };
  /** the fields rendered as HTML (outputs escaped); the rest are plain text */
  readonly html: ReadonlySet<string>;
}

/**
 * Compiles every field of every variant. `htmlFields` overrides the channel's HTML fields, for
 * content that is not a channel template (in-app messages: plain text but for custom HTML).
 */
export function compileTemplate(
  definition: TemplateDefinition,
  version: number,
  htmlFields: readonly string[] = TEMPLATE_CHANNELS[definition.channel]?.html ?? [],
): CompiledTemplate {
  const html = new Set(htmlFields);
  const variants = new Map<string, Map<string, Template[]>>();
  for (const [locale, fields] of Object.entries(definition.variants)) {
    const parsed = new Map<string, Template[]>();
    for (const [field, source] of Object.entries(fields)) {
      parsed.set(field, (html.has(field) ? htmlEngine : textEngine).parse(source));
    }
    variants.set(locale, parsed);
  }
  const sources = Object.values(definition.variants).flatMap((fields) => Object.values(fields));
  const pools = poolsUsed(sources);
  const usesEvent = sources.some((s) => /\bevent\b/.test(s));
  const usesLinks = sources.some((s) => /\b(preferences_url|unsubscribe_url|transparency_url)\b/.test(s));
  const usesSurveys = sources.some((s) => /\bsurveys\b/.test(s));
  return {
    placesTransparency: placesTransparencyLink(sources),
    definition,
    version,
    variants,
    pools,
    usesEvent,
    usesLinks,
    usesSurveys,
    catalog: catalogNeeds(definition, variants),
    html,
  };
}

/**
 * Whether any field reads `recommendations`, or `bought` (directly or through the `not_bought`
 * filter), found by liquidjs's static analysis of the parsed fields.
 */
function catalogNeeds(
  definition: TemplateDefinition,
  variants: ReadonlyMap<string, ReadonlyMap<string, Template[]>>,
): {
  recommendations: boolean;
  bought: boolean;
} {
  const needs = { recommendations: false, bought: false };
  for (const fields of variants.values()) {
    for (const parsed of fields.values()) {
      // Partials are never loaded (the sandbox has none); an analysis that fails loads both, to be safe.
      let globals: string[];
      try {
        globals = textEngine.globalVariablesSync(parsed, { partials: false });
      } catch {
        globals = ['recommendations', 'bought'];
      }
      if (globals.includes('recommendations')) needs.recommendations = true;
      if (globals.includes('bought')) needs.bought = true;
    }
  }
  for (const fields of Object.values(definition.variants))
    for (const source of Object.values(fields)) if (usesFilter(source, NOT_BOUGHT)) needs.bought = true;
  return needs;
}

/** What a template sees of the customer and the moment (docs/templates.md). */
export interface RenderInput {
  readonly profile: {
    readonly id: string;
    readonly userId: string | null;
    readonly traits: Record<string, unknown>;
  };
  /** a computed trait by name, computed on first use */
  readonly computed: (name: string) => unknown;
  readonly stage: string | null;
  readonly segments: readonly string[];
  readonly journey: { readonly id: string; readonly step: string; readonly entryId: string } | null;
  readonly message: { readonly key: string };
  /** the event that triggered the entry, when known */
  readonly event: { readonly name: string; readonly properties: Record<string, unknown> } | null;
  readonly now: number;
  /** a locale asked for explicitly (a preview); otherwise the customer's */
  readonly locale?: string;
  /** pool → the code this message got (`{{ coupon.spring }}`) */
  readonly coupons?: Readonly<Record<string, string>>;
  /**
   * more top-level variables: an e-mail's signed links (`preferences_url`, `unsubscribe_url`), a
   * double opt-in confirmation's `confirm_url` and `topic`, the `surveys` links; the built-in
   * variables win over these
   */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** the customer's recommended items, best first (loaded only when the template reads them) */
  readonly recommendations?: readonly RecommendedItem[];
  /** ids of the items the customer bought (loaded only when the template reads them) */
  readonly bought?: readonly string[];
}

export type Rendered =
  { ok: true; locale: string; content: Record<string, string> } | { ok: false; reason: string };

/** Computed traits as a Liquid drop: `{{ computed.revenue_total }}` computes just that one. */
class ComputedDrop extends Drop {
  constructor(
    private readonly get: (name: string) => unknown,
    private readonly defaults: ReadonlyMap<string, unknown>,
  ) {
    super();
  }
  override liquidMethodMissing(key: string | number): unknown {
    const v = this.get(String(key));
    return v === undefined || v === null ? this.defaults.get(String(key)) : v;
  }
}

/** The variant for `wanted` (`ja-JP`), else its language (`ja`), else the template's default. */
export function chooseLocale(t: TemplateDefinition, wanted: string | null): string {
  if (wanted) {
    const exact = Object.keys(t.variants).find((l) => l.toLowerCase() === wanted.toLowerCase());
    if (exact) return exact;
    const lang = wanted.split(/[-_]/)[0]!.toLowerCase();
    const byLang = Object.keys(t.variants).find((l) => l.toLowerCase() === lang);
    if (byLang) return byLang;
  }
  return t.defaultLocale;
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

export function renderTemplate(t: CompiledTemplate, input: RenderInput): Rendered {
  const traits = input.profile.traits;
  const locale = chooseLocale(
    t.definition,
    input.locale ?? text(traits['locale']) ?? text(traits['language']),
  );
  const fields = t.variants.get(locale);
  if (!fields) return { ok: false, reason: `template ${t.definition.name} has no ${locale} variant` };
  const computedDefaults = new Map<string, unknown>();
  const scope: Record<string, unknown> = {
    ...input.vars,
    // A trait set to null or "" counts as missing: it takes the declared default or stops the send.
    profile: { ...present(traits), id: input.profile.id, user_id: input.profile.userId },
    stage: input.stage,
    segments: input.segments,
    journey: input.journey && {
      id: input.journey.id,
      step: input.journey.step,
      entry_id: input.journey.entryId,
    },
    message: { key: input.message.key, locale },
    coupon: input.coupons ?? {},
    event: input.event && { name: input.event.name, properties: input.event.properties },
    now: new Date(input.now).toISOString(),
    recommendations: (input.recommendations ?? []).map(liquidItem),
    bought: input.bought ?? [],
    [LOCALE_KEY]: {
      locale,
      timezone: text(traits['timezone']),
      currency: text(traits['currency'])?.toUpperCase() ?? 'JPY',
    },
  };
  for (const [path, value] of Object.entries(t.definition.defaults)) {
    const parts = path.split('.');
    if (parts[0] === 'computed' && parts.length === 2) computedDefaults.set(parts[1]!, value);
    else setDefault(scope, parts, value);
  }
  scope['computed'] = new ComputedDrop(input.computed, computedDefaults);
  const content: Record<string, string> = {};
  for (const [field, parsed] of fields) {
    const engine = t.html.has(field) ? htmlEngine : textEngine;
    let out: string;
    try {
      out = engine.renderSync(parsed, scope) as string;
    } catch (err) {
      return { ok: false, reason: `${field}: ${liquidMessage(err)}` };
    }
    if (out.length > MAX_FIELD_OUTPUT) {
      return { ok: false, reason: `${field}: rendered to more than ${MAX_FIELD_OUTPUT} characters` };
    }
    content[field] = out;
  }
  return { ok: true, locale, content };
}

function present(traits: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(traits)) if (v !== null && v !== '') out[k] = v;
  return out;
}

/** Sets `value` at `path` in `scope` unless a non-empty value is there, copying objects on the way. */
function setDefault(scope: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = scope;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = at[k];
    const copy = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
    at[k] = copy;
    at = copy;
  }
  const last = path[path.length - 1]!;
  if (at[last] === undefined || at[last] === null || at[last] === '') at[last] = value;
}
