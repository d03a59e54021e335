/** Small DOM helpers: every text goes in through textContent, every URL through safeUrl. */

/** An http(s) URL resolved against the page, or null (javascript:, data: and the like never pass). */
export function safeUrl(u: unknown): string | null {
  if (typeof u !== 'string' || u === '') return null;
  try {
    const url = new URL(u, location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string | null,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

/** Appends an image of `url` to `parent` when the URL is http(s). */
export function addImage(parent: HTMLElement, url: unknown): void {
  const src = safeUrl(url);
  if (!src) return;
  const i = el('img');
  i.src = src;
  i.alt = '';
  parent.appendChild(i);
}

/** A host element with an open shadow root holding `css`: the host page's styles cannot reach inside. */
export function shadowHost(attr: string, css: string): { host: HTMLElement; root: ShadowRoot } {
  const host = document.createElement('div');
  host.setAttribute(attr, '');
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = css;
  root.appendChild(style);
  return { host, root };
}

export const BASE_CSS =
  ':host{all:initial!important}' +
  '*{box-sizing:border-box}' +
  '.kz{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;text-align:left}' +
  'h2{margin:0 0 6px;font-size:17px;font-weight:600}' +
  'p{margin:0 0 12px;white-space:pre-wrap}' +
  'img{max-width:100%;display:block;margin:0 0 12px;border-radius:6px}' +
  'button{font:inherit;cursor:pointer;border-radius:6px;padding:7px 14px;border:1px solid #1a1a1a;background:#1a1a1a;color:#fff}' +
  'button.secondary{background:#fff;color:#1a1a1a}' +
  '.x{position:absolute;top:4px;right:6px;border:0;background:transparent;color:#555;font-size:22px;line-height:1;padding:4px 8px}';
