/**
 * Open and click tracking for HTML e-mail (docs/channels.md#tracking): every http(s) link is replaced
 * by a signed link to this server that records the click and redirects to the original address, and
 * a 1×1 image whose loading records the open is added at the end of the body. Links to other schemes
 * (mailto:, tel:, anchors) stay as written, as do links marked `data-kizuna-track="off"` and the
 * unsubscribe link (a click there must not count as interest).
 */

const ANCHOR = /<a\b[^>]*>/gi;
const HREF = /(\shref\s*=\s*)("([^"]*)"|'([^']*)')/i;
const ENTITY = /&(amp|quot|#39|#x27|lt|gt);/g;
const DECODED: Record<string, string> = { amp: '&', quot: '"', '#39': "'", '#x27': "'", lt: '<', gt: '>' };

const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

export interface Tracking {
  /** the signed click link for an address, or null to leave it */
  readonly click: ((url: string) => string) | null;
  /** the open pixel's address, or null for no pixel */
  readonly open: string | null;
  /** addresses never rewritten (the message's unsubscribe link) */
  readonly keep?: readonly string[];
}

export function trackHtml(html: string, t: Tracking): string {
  let out = html;
  if (t.click) {
    const click = t.click;
    out = out.replace(ANCHOR, (tag) => {
      if (/\sdata-kizuna-track\s*=\s*["']?off/i.test(tag)) return tag;
      const m = HREF.exec(tag);
      if (!m) return tag;
      const url = (m[3] ?? m[4] ?? '').trim().replace(ENTITY, (_, e: string) => DECODED[e] ?? _);
      if (!/^https?:\/\//i.test(url) || t.keep?.includes(url)) return tag;
      return tag.replace(HREF, `${m[1]}"${attr(click(url))}"`);
    });
  }
  if (t.open) {
    const pixel = `<img src="${attr(t.open)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
    const body = out.search(/<\/body\s*>/i);
    out = body >= 0 ? `${out.slice(0, body)}${pixel}${out.slice(body)}` : `${out}${pixel}`;
  }
  return out;
}
