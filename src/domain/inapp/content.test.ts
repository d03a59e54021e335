import { describe, expect, it } from 'vitest';
import { readsComputed, readsTime } from './content.js';

describe('what a message’s fields read', () => {
  it('sees `now` and `computed` only inside Liquid tags, not in the text around them', () => {
    expect(readsTime({ title: 'Shop now', body: 'Buy it now!' })).toBe(false);
    expect(readsTime({ title: 'Today: {{ now | date: "%A" }}' })).toBe(true);
    expect(readsTime({ body: '{% if now > "2026" %}late{% endif %}' })).toBe(true);
    expect(readsComputed({ title: 'Your computed score is ready' })).toBe(false);
    expect(readsComputed({ title: 'Spent {{ computed.revenue_total | money }}' })).toBe(true);
    // names that merely contain the word do not count
    expect(readsTime({ title: '{{ profile.nowhere }}' })).toBe(false);
  });
});
