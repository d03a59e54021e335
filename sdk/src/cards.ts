/**
 * Content cards: a feed of persistent cards per customer (GET /v1/cards), read and dismissed through
 * POST /v1/cards/:id/read and /dismiss. `render` draws a simple feed in a Shadow DOM root inside a
 * host element; a card shown unread is marked read on the server (and keeps its unread mark until
 * the next render).
 */
import type { Api } from './api.js';
import { addImage, BASE_CSS, el, safeUrl, shadowHost } from './dom.js';
import type { Card } from './types.js';

const CSS =
  BASE_CSS +
  '.feed{display:flex;flex-direction:column;gap:10px}' +
  '.card{position:relative;border:1px solid #ddd;border-radius:8px;padding:12px 40px 12px 14px;background:#fff}' +
  '.card.unread{border-left:4px solid #d0342c}' +
  '.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:#d0342c;margin-right:6px;vertical-align:middle}' +
  '.card p{margin:0 0 6px}.card a{color:inherit}' +
  'time{font-size:12px;color:#666}' +
  '.empty{color:#666}';

export class Cards {
  constructor(
    private readonly api: Api,
    private readonly enabled: () => boolean,
  ) {}

  /** The customer's cards, newest and pinned first; empty when the server cannot be reached. */
  async list(): Promise<Card[]> {
    if (!this.enabled()) return [];
    const a = await this.api.get<{ cards?: Card[] } | Card[]>('/v1/cards');
    const cards = Array.isArray(a) ? a : Array.isArray(a?.cards) ? a.cards : [];
    return cards.filter((c) => c && typeof c.id === 'string');
  }

  read(id: string): Promise<boolean> {
    return this.post(id, 'read');
  }

  dismiss(id: string): Promise<boolean> {
    return this.post(id, 'dismiss');
  }

  /** Renders the feed into `target` (replacing an earlier render there); resolves to the number of cards. */
  async render(target: Element, opts: { empty?: string } = {}): Promise<number> {
    const cards = await this.list();
    target.querySelector(':scope > [data-kizuna-cards]')?.remove();
    const { host, root } = shadowHost('data-kizuna-cards', CSS);
    const feed = el('div', 'kz feed');
    feed.setAttribute('role', 'feed');
    if (cards.length === 0) feed.appendChild(el('p', 'empty', opts.empty ?? 'No messages yet.'));
    for (const c of cards) feed.appendChild(this.card(c, feed));
    root.appendChild(feed);
    target.appendChild(host);
    for (const c of cards) if (!c.read) void this.read(c.id);
    return cards.length;
  }

  private card(c: Card, feed: HTMLElement): HTMLElement {
    const a = el('article', c.read ? 'card' : 'card unread');
    a.dataset['id'] = c.id;
    addImage(a, c.imageUrl);
    const h = el('h2');
    if (!c.read) {
      const dot = el('span', 'dot');
      dot.setAttribute('aria-label', 'unread');
      h.appendChild(dot);
    }
    const url = safeUrl(c.url);
    if (url) {
      const link = el('a', '', c.title);
      link.href = url;
      h.appendChild(link);
    } else h.appendChild(document.createTextNode(String(c.title ?? '')));
    a.appendChild(h);
    if (c.body) a.appendChild(el('p', '', c.body));
    const when = new Date(c.createdAt);
    if (!Number.isNaN(when.getTime())) {
      const t = el('time', '', when.toLocaleDateString());
      t.dateTime = c.createdAt;
      a.appendChild(t);
    }
    const x = el('button', 'x', '×');
    x.type = 'button';
    x.setAttribute('aria-label', 'Dismiss');
    x.addEventListener('click', () => {
      a.remove();
      if (!feed.querySelector('.card')) feed.appendChild(el('p', 'empty', 'No messages yet.'));
      void this.dismiss(c.id);
    });
    a.appendChild(x);
    return a;
  }

  private async post(id: string, what: 'read' | 'dismiss'): Promise<boolean> {
    if (!this.enabled() || typeof id !== 'string') return false;
    const status = await this.api.send(`/v1/cards/${encodeURIComponent(id)}/${what}`, {});
    return status >= 200 && status < 300;
  }
}
