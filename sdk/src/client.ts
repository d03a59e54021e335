/**
 * The public API (`window.kizuna`, or the ES module's `kizuna`): Segment analytics.js call shapes plus
 * consent, in-app messages, cards and push. Every method is guarded: nothing it does throws into the
 * host page; a wrong argument is reported to the console once per kind and the call is ignored.
 * Calls made before `init` are kept (up to 100) and replayed by it.
 */
import { Core, pageContext, type InitOptions } from './core.js';
import type { Traits } from './identity.js';
import { warnOnce } from './log.js';
import type { PushOptions, PushResult } from './push.js';
import type { Card, InAppMessage } from './types.js';
import { VERSION } from './version.js';

export type { InitOptions, PushOptions, PushResult, Card, InAppMessage, Traits };

type Props = Record<string, unknown>;
type Call = [name: string, args: unknown[]];

const isObject = (v: unknown): v is Props => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number =>
  (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v));

/** A JSON copy of `v` (so later changes by the page do not alter what is sent), or undefined. */
function jsonCopy(v: Props, what: string): Props | undefined {
  try {
    return JSON.parse(JSON.stringify(v)) as Props;
  } catch {
    warnOnce(
      `json:${what}`,
      `${what} must be JSON-serialisable (no cycles, no BigInt): the call was ignored`,
    );
    return undefined;
  }
}

/** Runs `fn`, reporting (once per method) and swallowing whatever it throws or rejects with. */
function guard<A extends unknown[], R>(name: string, fallback: R, fn: (...a: A) => R): (...a: A) => R {
  return (...a: A): R => {
    const fail = (err: unknown) => {
      warnOnce(`error:${name}`, `${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    };
    try {
      const r = fn(...a);
      return (r instanceof Promise ? r.catch(fail) : r) as R;
    } catch (err) {
      return fail(err);
    }
  };
}

/** The visitor's answers to a consent banner, per purpose (docs/sdk.md#recording-choices). */
export interface ConsentChoices {
  /** purpose → granted (`true`) or withdrawn (`false`): `email_marketing`, `push`, `profiling`, … */
  purposes: Record<string, boolean>;
  /** the version of the wording the visitor saw */
  textVersion?: string;
  /** also the consent-mode answer (`consent(true|false)`): whether the SDK may track */
  tracking?: boolean;
}

export interface Kizuna {
  readonly loaded: true;
  readonly version: string;
  init(options: InitOptions): void;
  identify(userId?: string | number | null | Traits, traits?: Traits, options?: { userHash?: string }): void;
  track(event: string, properties?: Props): void;
  page(category?: string | Props, name?: string | Props, properties?: Props): void;
  alias(userId: string | number, previousId?: string | number): void;
  reset(): void;
  consent(granted: boolean): void;
  /** records the choices in the consent ledger; resolves to whether they were stored */
  consent(choices: ConsentChoices): Promise<boolean>;
  /** runs `fn` once init has run (at once if it has) */
  ready(fn: (k: Kizuna) => void): void;
  /** this browser's anonymous id (null before init) */
  anonymousId(): string | null;
  messages: { list(): InAppMessage[]; refresh(): Promise<void> };
  cards: {
    list(): Promise<Card[]>;
    render(element: Element, options?: { empty?: string }): Promise<number>;
    read(id: string): Promise<boolean>;
    dismiss(id: string): Promise<boolean>;
  };
  push: {
    subscribe(options?: PushOptions): Promise<PushResult>;
    unsubscribe(options?: PushOptions): Promise<PushResult>;
  };
}

export function createKizuna(): Kizuna {
  let core: Core | null = null;
  const early: Call[] = [];
  const waiting: ((k: Kizuna) => void)[] = [];

  /** The initialised core, or null after keeping the call for init to replay. */
  const ready = (name: string, args: unknown[]): Core | null => {
    if (core) return core;
    if (early.length < 100) early.push([name, args]);
    else warnOnce('early', 'more than 100 calls before init: the rest were dropped');
    return null;
  };

  const k: Kizuna = {
    loaded: true,
    version: VERSION,
    init: guard('init', undefined, (o: InitOptions) => {
      if (core) return warnOnce('init_twice', 'init was called more than once: the later calls were ignored');
      if (
        !isObject(o) ||
        typeof o.writeKey !== 'string' ||
        !o.writeKey ||
        typeof o.host !== 'string' ||
        !o.host
      )
        return warnOnce('init_args', 'init({ writeKey, host }) needs both as non-empty strings');
      core = new Core(o);
      for (const [name, args] of early.splice(0)) invoke(k, name, args);
      for (const fn of waiting.splice(0)) runReady(fn);
    }),
    identify: guard('identify', undefined, (userId?: unknown, traits?: unknown, options?: unknown) => {
      if (isObject(userId)) [userId, traits, options] = [null, userId, traits];
      if (userId !== undefined && userId !== null && !isId(userId))
        return warnOnce(
          'identify_args',
          'identify(userId, traits): userId must be a non-empty string or a number',
        );
      if (traits !== undefined && traits !== null && !isObject(traits))
        return warnOnce('identify_traits', 'identify(userId, traits): traits must be an object');
      const c = ready('identify', [userId, traits, options]);
      if (!c) return;
      const t = isObject(traits) ? jsonCopy(traits, 'traits') : null;
      if (t === undefined) return;
      const hash = isObject(options) && typeof options['userHash'] === 'string' ? options['userHash'] : null;
      c.identify(userId === undefined || userId === null ? null : String(userId).trim(), t, hash);
    }),
    track: guard('track', undefined, (event: unknown, properties?: unknown) => {
      if (typeof event !== 'string' || event.trim() === '')
        return warnOnce('track_args', 'track(event, properties): event must be a non-empty string');
      if (properties !== undefined && properties !== null && !isObject(properties))
        return warnOnce('track_props', 'track(event, properties): properties must be an object');
      const c = ready('track', [event, properties]);
      if (!c) return;
      const p = isObject(properties) ? jsonCopy(properties, 'properties') : {};
      if (p === undefined) return;
      c.enqueue(c.message('track', { event, properties: p }));
      c.inapp.onEvent(event);
    }),
    page: guard('page', undefined, (category?: unknown, name?: unknown, properties?: unknown) => {
      // analytics.js: page([category], [name], [properties]) — the last string is the name.
      if (isObject(category)) [category, name, properties] = [undefined, undefined, category];
      else if (isObject(name)) [category, name, properties] = [undefined, category, name];
      else if (typeof category === 'string' && (name === undefined || name === null))
        [category, name] = [undefined, category];
      if ((category != null && typeof category !== 'string') || (name != null && typeof name !== 'string'))
        return warnOnce('page_args', 'page(category, name, properties): category and name must be strings');
      if (properties != null && !isObject(properties))
        return warnOnce('page_props', 'page(category, name, properties): properties must be an object');
      const c = ready('page', [category, name, properties]);
      if (!c) return;
      const p = isObject(properties) ? jsonCopy(properties, 'properties') : {};
      if (p === undefined) return;
      const fields: Props = { properties: { ...pageContext(), ...p } };
      if (typeof name === 'string') {
        fields['name'] = name;
        (fields['properties'] as Props)['name'] = name;
      }
      if (typeof category === 'string') {
        fields['category'] = category;
        (fields['properties'] as Props)['category'] = category;
      }
      c.enqueue(c.message('page', fields));
      c.onPage();
    }),
    alias: guard('alias', undefined, (userId: unknown, previousId?: unknown) => {
      if (!isId(userId) || (previousId != null && !isId(previousId)))
        return warnOnce('alias_args', 'alias(userId, previousId): ids must be non-empty strings or numbers');
      const c = ready('alias', [userId, previousId]);
      if (!c) return;
      const prev = previousId != null ? String(previousId) : (c.identity.userId ?? c.identity.anonymousId);
      c.enqueue(c.message('alias', { userId: String(userId), previousId: prev }));
    }),
    reset: guard('reset', undefined, () => {
      ready('reset', [])?.reset();
    }),
    consent: guard('consent', undefined, (choice: unknown): void | Promise<boolean> => {
      if (typeof choice === 'boolean') return void ready('consent', [choice])?.setConsent(choice);
      const purposes = isObject(choice) ? choice['purposes'] : null;
      const text = isObject(choice) ? (choice['textVersion'] ?? null) : null;
      const tracking = isObject(choice) ? choice['tracking'] : undefined;
      if (
        !isObject(purposes) ||
        Object.keys(purposes).length === 0 ||
        Object.values(purposes).some((v) => typeof v !== 'boolean') ||
        (text !== null && typeof text !== 'string') ||
        (tracking !== undefined && typeof tracking !== 'boolean')
      ) {
        warnOnce(
          'consent_args',
          'consent takes true or false, or { purposes: { name: true|false }, textVersion?, tracking? }',
        );
        return Promise.resolve(false);
      }
      const chosen = { ...(purposes as Record<string, boolean>) };
      // Before init the choice waits for it, like every call; the promise answers once it is sent.
      return new Promise<boolean>((resolve) =>
        k.ready(() => {
          const recorded = core!.recordConsent(chosen, text);
          if (typeof tracking === 'boolean') core!.setConsent(tracking);
          resolve(recorded.catch(() => false));
        }),
      );
    }) as Kizuna['consent'],
    ready: guard('ready', undefined, (fn: unknown) => {
      if (typeof fn !== 'function') return warnOnce('ready_args', 'ready(fn) takes a function');
      if (core) runReady(fn as (k: Kizuna) => void);
      else waiting.push(fn as (k: Kizuna) => void);
    }),
    anonymousId: guard('anonymousId', null, () => core?.identity.anonymousId ?? null),
    messages: {
      list: guard('messages.list', [], () => core?.inapp.all() ?? []),
      refresh: guard('messages.refresh', Promise.resolve(), () =>
        core?.consent.allowed() ? core.inapp.refresh() : Promise.resolve(),
      ),
    },
    cards: {
      list: guard('cards.list', Promise.resolve([]), () => core?.cards.list() ?? Promise.resolve([])),
      render: guard('cards.render', Promise.resolve(0), (element: Element, options?: { empty?: string }) => {
        if (typeof Element === 'undefined' || !(element instanceof Element)) {
          warnOnce('cards_args', 'cards.render(element) takes a DOM element');
          return Promise.resolve(0);
        }
        return core?.cards.render(element, isObject(options) ? options : {}) ?? Promise.resolve(0);
      }),
      read: guard(
        'cards.read',
        Promise.resolve(false),
        (id: string) => core?.cards.read(id) ?? Promise.resolve(false),
      ),
      dismiss: guard(
        'cards.dismiss',
        Promise.resolve(false),
        (id: string) => core?.cards.dismiss(id) ?? Promise.resolve(false),
      ),
    },
    push: {
      subscribe: pushCall('subscribe'),
      unsubscribe: pushCall('unsubscribe'),
    },
  };

  function pushCall(which: 'subscribe' | 'unsubscribe') {
    const failed: PushResult = { ok: false, reason: 'failed' };
    return guard(`push.${which}`, Promise.resolve(failed), (o?: PushOptions) =>
      core
        ? core.push[which](isObject(o) ? o : {})
        : Promise.resolve({ ok: false, reason: 'call init first' }),
    );
  }

  function runReady(fn: (k: Kizuna) => void): void {
    try {
      fn(k);
    } catch (err) {
      console.error(err);
    }
  }

  return k;
}

/** Calls a method by name ('track', 'cards.render'): how queued calls are replayed. */
export function invoke(k: Kizuna, name: unknown, args: unknown): void {
  const [a = '', b] = typeof name === 'string' ? name.split('.') : [''];
  const target = (b ? (k as unknown as Record<string, unknown>)[a] : k) as
    Record<string, unknown> | undefined;
  const fn = target?.[b ?? a];
  if (typeof fn === 'function')
    (fn as (...x: unknown[]) => unknown)(...(Array.isArray(args) ? (args as unknown[]) : []));
  else warnOnce(`unknown:${String(name)}`, `kizuna has no method ${String(name)}`);
}
