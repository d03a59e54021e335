/**
 * Catalogue items as the admin API takes them (docs/catalog.md): one rule set for a JSON item and a
 * CSV row, so both imports refuse the same things in the same words. An import is checked whole
 * before anything is stored, and every bad item is named (`items[3].price`, `line 5.price`), up to
 * `MAX_ISSUES`.
 */
import type { FieldIssue } from '../errors.js';
import { checkJsonText } from '../ingest/limits.js';
import type { JsonObject } from './event.js';
import type { CatalogItem } from '../store/catalog-store.js';
import { parseCsv } from './csv.js';

export const CATALOG_LIMITS = {
  /** items per JSON request or CSV upload */
  itemsPerImport: 10_000,
  /** issues listed in one refusal */
  maxIssues: 50,
  idChars: 200,
  textChars: 1000,
  urlChars: 2048,
  extraBytes: 8192,
} as const;

export const CSV_COLUMNS = ['id', 'name', 'url', 'image_url', 'price', 'currency', 'category', 'available'];
const FIELDS = new Set([...CSV_COLUMNS, 'extra']);

type Raw = Record<string, unknown>;

function text(v: unknown, max: number, issue: (rule: string) => void, required = false): string | null {
  if (v === undefined || v === null || v === '') {
    if (required) issue('is required');
    return null;
  }
  if (typeof v !== 'string') {
    issue('must be a string');
    return null;
  }
  if (v.length > max) issue(`must be at most ${max} characters`);
  return v;
}

function url(v: unknown, issue: (rule: string) => void): string | null {
  const s = text(v, CATALOG_LIMITS.urlChars, issue);
  if (s === null) return null;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return s;
  } catch {
    // falls through
  }
  issue('must be an http(s) URL');
  return null;
}

function price(v: unknown, csv: boolean, issue: (rule: string) => void): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = csv && typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    issue('must be a number');
    return null;
  }
  if (n < 0) issue('must be 0 or more');
  return n;
}

function available(v: unknown, csv: boolean, issue: (rule: string) => void): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v === 'boolean') return v;
  if (csv && typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(s)) return true;
    if (['false', '0', 'no'].includes(s)) return false;
  }
  issue(csv ? 'must be true or false (or 1/0, yes/no)' : 'must be true or false');
  return true;
}

/** One item from a JSON object or a CSV row's columns; issues are pushed under `at`. */
export function parseItem(
  raw: unknown,
  at: string,
  csv: boolean,
  now: number,
  out: FieldIssue[],
): CatalogItem | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    out.push({ field: at, rule: 'must be an object' });
    return null;
  }
  const r = raw as Raw;
  const before = out.length;
  // Text no store can hold (NUL, a lone surrogate) is named here rather than failing in PostgreSQL.
  checkJsonText(r, at, out);
  const issue = (field: string) => (rule: string) => out.push({ field: `${at}.${field}`, rule });
  for (const k of Object.keys(r)) if (!FIELDS.has(k)) issue(k)(`is not a field (${[...FIELDS].join(', ')})`);
  const rawId = typeof r['id'] === 'number' && Number.isInteger(r['id']) ? String(r['id']) : r['id'];
  const id = text(rawId, CATALOG_LIMITS.idChars, issue('id'), true);
  const name = text(r['name'], CATALOG_LIMITS.textChars, issue('name'), true);
  const currencyText = text(r['currency'], 3, issue('currency'));
  const currency = currencyText === null ? null : currencyText.trim().toUpperCase();
  if (currency !== null && !/^[A-Z]{3}$/.test(currency))
    issue('currency')('must be an ISO 4217 code (JPY, USD)');
  let extra: JsonObject = {};
  if (r['extra'] !== undefined && r['extra'] !== null) {
    if (typeof r['extra'] !== 'object' || Array.isArray(r['extra'])) issue('extra')('must be an object');
    else if (JSON.stringify(r['extra']).length > CATALOG_LIMITS.extraBytes)
      issue('extra')(`must be at most ${CATALOG_LIMITS.extraBytes} bytes of JSON`);
    else extra = r['extra'] as JsonObject;
  }
  const item: CatalogItem = {
    id: id ?? '',
    name: name ?? '',
    url: url(r['url'], issue('url')),
    imageUrl: url(r['image_url'], issue('image_url')),
    price: price(r['price'], csv, issue('price')),
    currency,
    category: text(r['category'], CATALOG_LIMITS.textChars, issue('category')),
    available: available(r['available'], csv, issue('available')),
    extra,
    updatedAt: now,
  };
  return out.length === before ? item : null;
}

export type ParsedItems = { ok: true; items: CatalogItem[] } | { ok: false; issues: FieldIssue[] };

function finish(items: (CatalogItem | null)[], names: string[], issues: FieldIssue[]): ParsedItems {
  const first = new Map<string, string>();
  items.forEach((item, n) => {
    if (!item) return;
    const had = first.get(item.id);
    if (had !== undefined) issues.push({ field: `${names[n]}.id`, rule: `repeats ${had}'s id "${item.id}"` });
    else first.set(item.id, names[n]!);
  });
  if (issues.length > 0) {
    const shown = issues.slice(0, CATALOG_LIMITS.maxIssues);
    if (issues.length > shown.length)
      shown.push({ field: 'items', rule: `and ${issues.length - shown.length} more issues` });
    return { ok: false, issues: shown };
  }
  return { ok: true, items: items as CatalogItem[] };
}

/** `{items: [...]}` as the JSON import takes it. */
export function parseItemsJson(body: unknown, now: number): ParsedItems {
  const list = typeof body === 'object' && body !== null ? (body as Raw)['items'] : undefined;
  if (!Array.isArray(list))
    return { ok: false, issues: [{ field: 'items', rule: 'must be an array of items' }] };
  if (list.length === 0) return { ok: false, issues: [{ field: 'items', rule: 'must not be empty' }] };
  if (list.length > CATALOG_LIMITS.itemsPerImport)
    return {
      ok: false,
      issues: [{ field: 'items', rule: `must hold at most ${CATALOG_LIMITS.itemsPerImport} items` }],
    };
  const issues: FieldIssue[] = [];
  const names = list.map((_, n) => `items[${n}]`);
  return finish(
    list.map((raw, n) => parseItem(raw, names[n]!, false, now, issues)),
    names,
    issues,
  );
}

/** A CSV upload: a header row naming columns (any order, `id` and `name` required), then one item per row. */
export function parseItemsCsv(source: string, now: number): ParsedItems {
  const csv = parseCsv(source);
  if (!csv.ok) return { ok: false, issues: [{ field: `line ${csv.line}`, rule: csv.reason }] };
  const [header, ...rows] = csv.records;
  if (!header) return { ok: false, issues: [{ field: 'body', rule: 'must hold a header row and items' }] };
  const columns = header.fields.map((c) => c.trim().toLowerCase());
  const issues: FieldIssue[] = [];
  columns.forEach((c, n) => {
    if (!CSV_COLUMNS.includes(c))
      issues.push({
        field: `line 1.${c || `column ${n + 1}`}`,
        rule: `is not a column (${CSV_COLUMNS.join(', ')})`,
      });
    else if (columns.indexOf(c) !== n) issues.push({ field: `line 1.${c}`, rule: 'is named twice' });
  });
  for (const need of ['id', 'name'])
    if (!columns.includes(need)) issues.push({ field: 'line 1', rule: `must name the column ${need}` });
  if (issues.length > 0) return { ok: false, issues };
  if (rows.length === 0)
    return { ok: false, issues: [{ field: 'body', rule: 'holds no items after the header' }] };
  if (rows.length > CATALOG_LIMITS.itemsPerImport)
    return {
      ok: false,
      issues: [{ field: 'body', rule: `must hold at most ${CATALOG_LIMITS.itemsPerImport} items` }],
    };
  const names = rows.map((r) => `line ${r.line}`);
  const items = rows.map((r, n) => {
    if (r.fields.length !== columns.length) {
      issues.push({
        field: names[n]!,
        rule: `has ${r.fields.length} fields; the header names ${columns.length}`,
      });
      return null;
    }
    const raw: Raw = {};
    columns.forEach((c, k) => (raw[c] = r.fields[k]!.trim()));
    return parseItem(raw, names[n]!, true, now, issues);
  });
  return finish(items, names, issues);
}
