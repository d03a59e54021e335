/**
 * In-app messages: the list GET /v1/messages answers (already targeted, scheduled and frequency-capped
 * by the server), their display triggers, and the rule that at most one message is on screen and none
 * is shown twice in one page view. When several trigger at the same moment the highest priority wins.
 */
import type { Api } from './api.js';
import { uuid } from './ids.js';
import { matchesUrl } from './pattern.js';
import { renderMessage } from './render.js';
import type { Card, InAppMessage } from './types.js';

export interface MessagesAnswer {
  messages?: InAppMessage[];
  cards?: Card[];
}

export class InApp {
  private list: InAppMessage[] = [];
  private readonly shown = new Set<string>();
  private close: (() => void) | null = null;
  private candidates: InAppMessage[] = [];
  private timers: ReturnType<typeof setTimeout>[] = [];
  private readonly pageStart = Date.now();
  private loading: Promise<void> | null = null;
  private again = false;
  private exitWatched = false;
  /** the cards that came with the last answer */
  cards: Card[] | null = null;

  constructor(
    private readonly api: Api,
    private readonly sessionId: () => string,
  ) {}

  /** The messages this customer may see now (a copy; empty before the first answer; no control-group entries). */
  all(): InAppMessage[] {
    return this.list.filter((m) => !m.control);
  }

  /** Fetches the list again (identity or page changed); one request at a time. */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        const a = await this.api.get<MessagesAnswer>('/v1/messages', true, { url: location.href });
        if (a) this.accept(a);
      } while (this.again);
    })().finally(() => (this.loading = null));
    return this.loading;
  }

  /** A track call: messages triggered by this event. */
  onEvent(event: string): void {
    this.offer(this.list.filter((m) => m.trigger?.kind === 'event' && m.trigger.event === event));
  }

  /** Stops timers and removes what is on screen (reset, consent withdrawn). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.list = [];
    this.cards = null;
    this.close?.();
    this.close = null;
  }

  private accept(a: MessagesAnswer): void {
    const list = Array.isArray(a.messages) ? a.messages.filter((m) => m && typeof m.id === 'string') : [];
    this.list = list.sort((x, y) => (Number(y.priority) || 0) - (Number(x.priority) || 0));
    if (Array.isArray(a.cards)) this.cards = a.cards;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    for (const m of this.list) {
      if (m.trigger?.kind !== 'delay') continue;
      const wait = Math.max(0, (Number(m.trigger.seconds) || 0) * 1000 - (Date.now() - this.pageStart));
      this.timers.push(setTimeout(() => this.offer([m]), wait));
    }
    if (!this.exitWatched && this.list.some((m) => m.trigger?.kind === 'exit_intent')) {
      this.exitWatched = true;
      // Exit intent: the pointer leaves the window through its top edge (towards the tabs or the URL bar).
      document.addEventListener('mouseout', (e) => {
        if (!e.relatedTarget && e.clientY <= 0)
          this.offer(this.list.filter((m) => m.trigger?.kind === 'exit_intent'));
      });
    }
    this.offer(
      this.list.filter(
        (m) =>
          m.trigger?.kind === 'page' &&
          typeof m.trigger.urlPattern === 'string' &&
          matchesUrl(m.trigger.urlPattern, location),
      ),
    );
  }

  /** Collects what triggers in this turn of the event loop, then shows the best one. */
  private offer(ms: InAppMessage[]): void {
    if (ms.length === 0) return;
    const first = this.candidates.length === 0;
    this.candidates.push(...ms);
    if (first) queueMicrotask(() => this.decide());
  }

  private decide(): void {
    const c = this.candidates.filter((m) => !this.shown.has(m.id));
    this.candidates = [];
    if (this.close !== null || c.length === 0) return;
    const best = c.reduce((a, b) => ((Number(b.priority) || 0) > (Number(a.priority) || 0) ? b : a));
    this.show(best);
  }

  private show(m: InAppMessage): void {
    this.shown.add(m.id);
    // A control-group customer sees nothing where the others see the message; the exposure is what
    // their conversions are measured from.
    if (m.control) return this.report(m, 'control', null);
    let done = false;
    const finish = (type: 'click' | 'dismiss', url: string | null) => {
      if (done) return;
      done = true;
      this.close?.();
      this.close = null;
      this.report(m, type, url);
      if (type === 'click' && url) location.assign(url);
    };
    this.close = renderMessage(m, {
      click: (url) => finish('click', url),
      dismiss: () => finish('dismiss', null),
    });
    this.report(m, 'impression', null);
  }

  private report(
    m: InAppMessage,
    type: 'impression' | 'click' | 'dismiss' | 'control',
    url: string | null,
  ): void {
    const body: Record<string, unknown> = {
      variant: m.variant,
      type,
      sessionId: this.sessionId(),
      timestamp: new Date().toISOString(),
      messageId: uuid(),
    };
    if (url) body['url'] = url;
    void this.api.send(`/v1/messages/${encodeURIComponent(m.id)}/events`, body);
  }
}
