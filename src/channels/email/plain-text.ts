/**
 * The plain-text part of an e-mail whose template has only HTML: spam filters score HTML-only mail
 * down, and some readers (and screen-reader users) prefer text. Derived from the rendered HTML with
 * the reading order kept: blocks become paragraphs, list items get a dash, links show their address
 * after their text, images their alt text; head, style, script and hidden preheader content is
 * dropped. Good enough for the text part; not a general HTML renderer.
 */

const DROP = /<(head|style|script|title|noscript)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const HIDDEN =
  /<(div|span|p)\b[^>]*style\s*=\s*["'][^"']*display\s*:\s*none[^"']*["'][^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENT = /<!--[\s\S]*?-->/g;
const LINK = /<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi;
const IMAGE = /<img\b[^>]*?\salt\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>/gi;
const BREAK = /<br\s*\/?>/gi;
const ITEM = /<li\b[^>]*>/gi;
const BLOCK_END = /<\/(p|div|h[1-6]|tr|table|section|article|header|footer|blockquote|ul|ol)\s*>/gi;
const BLOCK_START = /<(p|div|h[1-6]|tr|table|section|article|header|footer|blockquote|ul|ol|hr)\b[^>]*>/gi;
const CELL_END = /<\/t[dh]\s*>/gi;
const ITEM_END = /<\/li\s*>/gi;
const TAG = /<[^>]+>/g;

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  yen: '¥',
};

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[e.toLowerCase()] ?? whole;
  });
}

const inline = (s: string) => decode(s.replace(TAG, '')).replace(/\s+/g, ' ').trim();

export function htmlToText(html: string): string {
  // Source line breaks are layout, not text: only the markup decides where lines break.
  let s = html.replace(COMMENT, '').replace(DROP, '').replace(HIDDEN, '').replace(/\s+/g, ' ');
  s = s.replace(LINK, (_, dq: string | undefined, sq: string | undefined, body: string) => {
    const url = decode((dq ?? sq ?? '').trim());
    const text = inline(body);
    if (!/^(https?:|mailto:|tel:)/i.test(url)) return text;
    const shown = url.replace(/^mailto:/i, '');
    return text === '' || text === shown ? shown : `${text} (${shown})`;
  });
  s = s.replace(IMAGE, (_, dq: string | undefined, sq: string | undefined) => (dq ?? sq ?? '').trim());
  s = s
    .replace(BREAK, '\n')
    .replace(ITEM, '\n- ')
    .replace(ITEM_END, '')
    .replace(BLOCK_END, '\n\n')
    .replace(BLOCK_START, '\n\n')
    .replace(CELL_END, ' ')
    .replace(TAG, '');
  return decode(s)
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
