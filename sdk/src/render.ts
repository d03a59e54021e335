/**
 * Draws one in-app message in a Shadow DOM root of its own (so the host page's CSS cannot break it, nor
 * its CSS the page's). Title, body and labels are plain text (textContent); custom HTML goes into an
 * iframe sandboxed without scripts and without the page's origin, under a CSP that forbids scripts,
 * so it cannot run code in the host page or read it.
 */
import { addImage, BASE_CSS, el, safeUrl, shadowHost } from './dom.js';
import type { InAppMessage } from './types.js';

export interface Handlers {
  click(url: string | null): void;
  dismiss(): void;
}

/** Prepended to custom HTML: no scripts, no fetches, images over https only, inline styles. */
export const HTML_CSP = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'";

const CSS =
  BASE_CSS +
  '.kz{position:fixed;z-index:2147483647}' +
  '.backdrop{inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;padding:16px}' +
  '.box{position:relative;background:#fff;border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25);padding:20px 22px;width:100%;max-width:480px;max-height:100%;overflow:auto}' +
  '.banner{left:0;right:0;background:#fff;box-shadow:0 2px 12px rgba(0,0,0,.2);padding:12px 48px 12px 16px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}' +
  '.banner h2,.banner p,.banner img{margin:0}.banner img{max-height:48px}' +
  '.top{top:0}.bottom{bottom:0}' +
  '.slide{right:16px;bottom:16px;width:min(360px,calc(100vw - 32px))}' +
  '.full{inset:0;background:#fff;display:flex;align-items:center;justify-content:center;padding:24px}' +
  '.full .box{box-shadow:none;max-width:640px}' +
  '.btns{display:flex;gap:8px;flex-wrap:wrap}' +
  'iframe{border:0;width:100%;height:min(70vh,420px);display:block}' +
  '.html{padding:28px 0 0}';

/** The srcdoc of a custom HTML message. */
export function htmlDocument(html: string): string {
  return (
    `<!doctype html><meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">` +
    `<base target="_blank">${html}`
  );
}

/** Renders `m` into the page; returns a function that removes it. */
export function renderMessage(m: InAppMessage, h: Handlers): () => void {
  const { host, root } = shadowHost('data-kizuna-message', CSS);
  host.dataset['id'] = m.id;
  const c = m.content ?? {};
  const outer = el('div', 'kz');
  let box: HTMLElement;
  if (m.type === 'banner') {
    outer.classList.add('banner', m.position === 'bottom' ? 'bottom' : 'top');
    box = outer;
  } else {
    outer.classList.add(m.type === 'slide_in' ? 'slide' : m.type === 'full_screen' ? 'full' : 'backdrop');
    box = el('div', 'box');
    outer.appendChild(box);
  }
  if (m.type !== 'banner' && m.type !== 'slide_in') {
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
  } else box.setAttribute('role', 'status');
  if (c.title) box.setAttribute('aria-label', c.title);

  const close = el('button', 'x', '×');
  close.type = 'button';
  close.setAttribute('aria-label', 'Close');
  close.addEventListener('click', () => h.dismiss());

  if (m.type === 'html') {
    box.classList.add('html');
    const frame = el('iframe');
    // No allow-scripts, no allow-same-origin: an opaque origin that can run nothing.
    frame.setAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.title = c.title || 'Message';
    frame.srcdoc = htmlDocument(typeof c.html === 'string' ? c.html : '');
    box.appendChild(frame);
  } else {
    addImage(box, c.imageUrl);
    if (c.title) box.appendChild(el('h2', '', c.title));
    if (c.body) box.appendChild(el('p', '', c.body));
    const buttons = Array.isArray(c.buttons) ? c.buttons : [];
    if (buttons.length > 0) {
      const row = el('div', 'btns');
      buttons.forEach((b, i) => {
        const btn = el('button', i > 0 ? 'secondary' : '', String(b?.label ?? ''));
        btn.type = 'button';
        btn.addEventListener('click', () =>
          b?.action === 'dismiss' ? h.dismiss() : h.click(safeUrl(b?.url)),
        );
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
  }
  box.appendChild(close);
  if (outer.classList.contains('backdrop'))
    outer.addEventListener('click', (e) => {
      if (e.target === outer) h.dismiss();
    });
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') h.dismiss();
  };
  document.addEventListener('keydown', onKey);
  root.appendChild(outer);
  (document.body ?? document.documentElement).appendChild(host);
  return () => {
    document.removeEventListener('keydown', onKey);
    host.remove();
  };
}
