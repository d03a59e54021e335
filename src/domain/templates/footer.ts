/**
 * The transparency footer (docs/privacy.md#the-link): every marketing e-mail links to the customer's
 * transparency page. A template that places `{{ transparency_url }}` itself decides where; one that
 * forgets gets this footer at the end of its HTML and text parts, in the message's language.
 */

const WORDING: Readonly<Record<'en' | 'ja', string>> = {
  en: 'What we hold about you, and why you got this e-mail:',
  ja: 'お客様について保持している情報と、このメールをお送りした理由:',
};

const escapeHtml = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Japanese for a `ja` variant (`ja`, `ja-JP`), English otherwise. */
const wordingFor = (locale: string) => WORDING[/^ja\b/i.test(locale) ? 'ja' : 'en'];

/** Whether a template's sources place the transparency link themselves. */
export const placesTransparencyLink = (sources: readonly string[]): boolean =>
  sources.some((s) => /\btransparency_url\b/.test(s));

/**
 * The rendered e-mail fields with the footer added to `html` (before `</body>` when there is one; the
 * link is kept out of click tracking, as a page about the customer's data is not interest) and to
 * `text`; other fields unchanged.
 */
export function withTransparencyFooter(
  content: Readonly<Record<string, string>>,
  url: string,
  locale: string,
): Record<string, string> {
  const words = wordingFor(locale);
  const out = { ...content };
  if (out['text'] !== undefined) out['text'] = `${out['text'].trimEnd()}\n\n--\n${words}\n${url}\n`;
  const html = out['html'];
  if (html !== undefined) {
    const footer =
      `<p style="font-size:12px;color:#666">${escapeHtml(words)} ` +
      `<a href="${escapeHtml(url)}" data-kizuna-track="off">${escapeHtml(url)}</a></p>`;
    const body = html.search(/<\/body\s*>/i);
    out['html'] = body >= 0 ? `${html.slice(0, body)}${footer}${html.slice(body)}` : `${html}${footer}`;
  }
  return out;
}
