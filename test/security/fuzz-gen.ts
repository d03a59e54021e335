/**
 * A small seeded fuzzer for the HTTP surface: it builds a plausible value from an OpenAPI (JSON
 * Schema) description, then breaks it in one place with a hostile value, or sends raw junk. Seeded, so a
 * failure prints a case that can be replayed by its seed and index.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: Json[];
  const?: Json;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | Schema;
}

/** mulberry32: small, fast and good enough to pick cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Fuzz {
  constructor(
    readonly random: () => number,
    private readonly schemas: Record<string, Schema>,
  ) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Strings that have broken parsers, queries, templates and renderers somewhere. */
  hostileString(): string {
    return this.pick([
      '',
      ' ',
      'x'.repeat(70_000),
      '\u0000',
      'a\u0000b',
      '😀'.repeat(2_000),
      '\ud800',
      '\u202egnp.exe',
      'ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｃｏｍ',
      '日本語のテキスト'.repeat(50),
      '<script>alert(1)</script>',
      '"><img src=x onerror=alert(1)>',
      "' OR '1'='1' --",
      '"; DROP TABLE events; --',
      '../../../../etc/passwd',
      '%00%2e%2e%2f',
      '{{ 7 | times: 7 }}',
      '{% for i in (1..100000000) %}x{% endfor %}',
      '{{ profile.traits',
      '{% include "/etc/passwd" %}',
      '__proto__',
      'constructor',
      'prototype',
      '%s%s%s%n',
      'NaN',
      '1e309',
      '-0',
      '2026-13-45T99:99:99Z',
      '0000-00-00',
      'javascript:alert(1)',
      'http://127.0.0.1:1/',
      'http://[::1]/',
      'file:///etc/passwd',
      'a'.repeat(256) + '@example.com',
      '(a+)+$',
      '*',
      '\\',
      '\r\nSet-Cookie: x=1',
    ]);
  }

  hostile(depth = 0): Json {
    switch (this.int(depth > 1 ? 5 : 9)) {
      case 0:
      case 1:
      case 2:
        return this.hostileString();
      case 3:
        return this.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, -(2 ** 31), 4294967296, 1e-300]);
      case 4:
        return this.pick([null, true, false]);
      case 5:
        return [];
      case 6:
        return {};
      case 7:
        return Array.from({ length: this.pick([3, 1000, 20_000]) }, () => this.hostileString().slice(0, 50));
      default:
        return {
          [this.hostileString().slice(0, 40)]: this.hostile(depth + 1),
          nested: [this.hostile(depth + 1)],
        };
    }
  }

  private resolve(s: Schema): Schema {
    let cur = s;
    for (let i = 0; i < 10 && cur.$ref; i++) {
      const name = cur.$ref.split('/').pop() ?? '';
      cur = this.schemas[name] ?? {};
    }
    return cur;
  }

  /** A value that follows the schema as far as this small generator understands it. */
  plausible(schema: Schema, depth = 0): Json {
    const s = this.resolve(schema);
    if (s.const !== undefined) return s.const;
    if (s.enum) return this.pick(s.enum);
    const choices = s.oneOf ?? s.anyOf;
    if (choices && choices.length > 0) return this.plausible(this.pick(choices), depth + 1);
    if (s.allOf) {
      const out: Record<string, Json> = {};
      for (const part of s.allOf) {
        const v = this.plausible(part, depth + 1);
        if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
      }
      return out;
    }
    const types = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : s.type ? [s.type] : [];
    const type = types.length > 0 ? this.pick(types) : s.properties ? 'object' : 'string';
    if (depth > 6) return null;
    switch (type) {
      case 'object': {
        const out: Record<string, Json> = {};
        for (const [k, v] of Object.entries(s.properties ?? {}))
          if (s.required?.includes(k) || this.random() < 0.5) out[k] = this.plausible(v, depth + 1);
        return out;
      }
      case 'array': {
        const n = Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 1 + this.int(3)));
        return Array.from({ length: n }, () => this.plausible(s.items ?? {}, depth + 1));
      }
      case 'integer':
        return Math.max(s.minimum ?? 0, Math.min(s.maximum ?? 100, this.int(100)));
      case 'number':
        return Math.max(s.minimum ?? 0, Math.min(s.maximum ?? 100, this.random() * 100));
      case 'boolean':
        return this.random() < 0.5;
      default:
        if (s.format === 'date-time') return new Date(Date.UTC(2026, 10, 1) + this.int(1e9)).toISOString();
        if (s.format === 'email') return `fuzz${this.int(1000)}@example.com`;
        if (s.format === 'uri') return `https://example.com/${this.int(1000)}`;
        return `fuzz-${this.int(1000)}`.slice(0, Math.max(1, s.maxLength ?? 20));
    }
  }

  /** The value with one place broken: replaced by a hostile value, dropped, or joined by an unknown key. */
  mutate(v: Json): Json {
    if (v === null || typeof v !== 'object') return this.random() < 0.8 ? this.hostile() : v;
    const copy = JSON.parse(JSON.stringify(v)) as Json;
    // Walk down a random path, then break what is there.
    let parent: Json[] | Record<string, Json> = copy as Json[] | Record<string, Json>;
    for (let depth = 0; depth < 6; depth++) {
      const keys = Array.isArray(parent) ? parent.map((_, i) => String(i)) : Object.keys(parent);
      if (keys.length === 0) break;
      const k = this.pick(keys);
      const child = (parent as Record<string, Json>)[k] ?? null;
      if (child !== null && typeof child === 'object' && this.random() < 0.6) {
        parent = child;
        continue;
      }
      const action = this.int(4);
      if (action === 0 && !Array.isArray(parent)) delete parent[k];
      else if (action === 1 && !Array.isArray(parent)) parent[this.hostileString().slice(0, 60) || 'x'] = 1;
      else (parent as Record<string, Json>)[k] = this.hostile();
      return copy;
    }
    if (!Array.isArray(parent))
      parent[this.pick(['__proto__', 'constructor', 'unknownField'])] = this.hostile();
    return copy;
  }

  /** A body that is not what a JSON route expects at all. */
  junk(): { body: string | Buffer; contentType: string | null } {
    const pick = this.int(10);
    const json = 'application/json';
    if (pick === 0) return { body: 'not json', contentType: json };
    if (pick === 1) return { body: '{"a":', contentType: json };
    if (pick === 2) return { body: '', contentType: json };
    if (pick === 3) return { body: this.pick(['null', '[]', '"text"', '42', 'true']), contentType: json };
    if (pick === 4)
      return {
        body: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
        contentType: json,
      };
    if (pick === 5) return { body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: json };
    if (pick === 6) return { body: JSON.stringify({ big: 'x'.repeat(3_000_000) }), contentType: json };
    if (pick === 7)
      return { body: '{"a":1}', contentType: this.pick(['text/plain', 'application/xml', null]) };
    if (pick === 8) return { body: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3, 0x28]), contentType: json };
    return { body: '{"a":1,"a":2,"b":"\\ud800"}', contentType: json };
  }
}
