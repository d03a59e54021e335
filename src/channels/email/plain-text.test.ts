import { describe, expect, it } from 'vitest';
import { htmlToText } from './plain-text.js';

describe('htmlToText', () => {
  it('keeps the reading order: paragraphs, list items, links with their address, image alt text', () => {
    const html = `<html><head><title>x</title><style>p{color:red}</style></head><body>
      <div style="display:none;max-height:0">Preheader text</div>
      <h1>Hello&nbsp;Ann</h1>
      <p>Your   order &amp; your <b>points</b>:<br>1,200 pt</p>
      <ul><li>Tea</li><li>Cups <a href="https://shop.example/cups?a=1&amp;b=2">see them</a></li></ul>
      <p><img src="x.png" alt="Logo"> <a href="https://shop.example">https://shop.example</a>
      <a href="mailto:help@shop.example">help@shop.example</a> <a href="#top">top</a></p>
      <!-- a comment --><script>alert(1)</script>
      <table><tr><td>Total</td><td>¥3,000</td></tr></table>
      <p>山田様 &#x1F600; &#169;</p>
    </body></html>`;
    expect(htmlToText(html)).toBe(
      [
        'Hello Ann',
        '',
        'Your order & your points:',
        '1,200 pt',
        '',
        '- Tea',
        '- Cups see them (https://shop.example/cups?a=1&b=2)',
        '',
        'Logo https://shop.example help@shop.example top',
        '',
        'Total ¥3,000',
        '',
        '山田様 😀 ©',
      ].join('\n'),
    );
  });

  it('leaves text without tags as it is, and unknown entities untouched', () => {
    expect(htmlToText('Plain &unknown; text')).toBe('Plain &unknown; text');
    expect(htmlToText('')).toBe('');
  });
});
