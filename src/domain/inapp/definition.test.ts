import { describe, expect, it } from 'vitest';
import { cardSchema, MAX_HTML_CHARS, messageSchema } from './definition.js';

const base = { name: 'm', type: 'modal', trigger: { kind: 'delay', seconds: 2 }, content: { body: 'hi' } };
const fields = (input: unknown) => {
  const r = messageSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
};

describe('in-app definitions', () => {
  it('fills defaults and keeps unicode', () => {
    const m = messageSchema.parse({
      ...base,
      content: { title: '絆 🎁', body: 'Hi {{ profile.name | default: "you" }}' },
    });
    expect(m).toMatchObject({ priority: 0, position: null, controlPercent: 0, frequency: { kind: 'once' } });
    expect(m.content?.title).toBe('絆 🎁');
    expect(m.targeting).toEqual({ segments: [], stages: [], journeySteps: [] });
  });

  it('names the field of each broken rule', () => {
    expect(fields({ ...base, trigger: { kind: 'page' } })).toEqual(['trigger.urlPattern']);
    expect(fields({ ...base, trigger: { kind: 'hover' } })).toEqual(['trigger.kind']);
    expect(fields({ ...base, type: 'html', content: { html: 'x'.repeat(MAX_HTML_CHARS + 1) } })).toEqual([
      'content.html',
    ]);
    expect(fields({ ...base, content: { body: '{% if %}' } })).toEqual(['content.body']);
    expect(
      fields({ ...base, content: { body: 'x', buttons: [{ label: 'go', url: 'javascript:x' }] } }),
    ).toEqual(['content.buttons.0.url']);
    expect(
      fields({
        ...base,
        content: undefined,
        variants: [
          { key: 'a', content: { body: 'x' } },
          { key: 'a', content: { body: 'y' } },
        ],
      }),
    ).toEqual(['variants.1.key']);
    expect(fields({ ...base, content: { title: ' ', body: '' } })).toEqual(['content.body']);
    expect(
      cardSchema.safeParse({
        name: 'c',
        title: 'x',
        startAt: '2026-01-02T00:00:00Z',
        expiresAt: '2026-01-01T00:00:00Z',
      }).success,
    ).toBe(false);
  });
});
