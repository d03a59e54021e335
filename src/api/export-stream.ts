/**
 * A customer's export (docs/privacy.md#export) as a stream of chunks: one JSON document, or a tar
 * archive of CSV files. Both are written page by page as the store reads them, so a customer with
 * 100,000 events never becomes one string in memory.
 */
import { csvRecord } from '../domain/csv.js';
import type { ExportPage } from '../store/rights-store.js';

export interface ExportHeader {
  readonly workspaceId: string;
  readonly profileId: string;
  readonly exportedAt: number;
  /** computed traits as of the export (they are derived, not stored) */
  readonly computedTraits: Record<string, unknown>;
}

export const EXPORT_FORMAT = 'kizuna-export/1';

/** `{ format, profile_id, exported_at, computed_traits, sections: { name: [rows] } }`. */
export async function* jsonExport(
  header: ExportHeader,
  pages: AsyncIterable<ExportPage>,
): AsyncGenerator<string> {
  yield `{"format":"${EXPORT_FORMAT}","workspace_id":${JSON.stringify(header.workspaceId)},"profile_id":${JSON.stringify(header.profileId)},"exported_at":"${new Date(header.exportedAt).toISOString()}","computed_traits":${JSON.stringify(header.computedTraits)},"sections":{`;
  let current: string | null = null;
  let first = true;
  for await (const page of pages) {
    let out = '';
    if (page.section !== current) {
      if (current !== null) out += '],';
      out += `${JSON.stringify(page.section)}:[`;
      current = page.section;
      first = true;
    }
    for (const row of page.rows) {
      out += (first ? '' : ',') + JSON.stringify(row);
      first = false;
    }
    yield out;
  }
  yield current === null ? '}}' : ']}}';
}

const cell = (v: unknown): string | number | null =>
  v === null || v === undefined
    ? null
    : typeof v === 'number'
      ? v
      : typeof v === 'string'
        ? v
        : typeof v === 'boolean' || typeof v === 'bigint'
          ? String(v)
          : JSON.stringify(v);

function csvFile(rows: readonly Record<string, unknown>[]): Buffer {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  let text = csvRecord(columns);
  for (const r of rows) text += csvRecord(columns.map((c) => cell(r[c])));
  return Buffer.from(text, 'utf8');
}

/**
 * A tar (POSIX ustar) archive: `manifest.json`, then one `<section>.csv` per section, except events,
 * which come as `events-00001.csv`, `events-00002.csv`, … of up to 1,000 rows each (each with its
 * header row), so no file has to be held whole before its size is known.
 */
export async function* tarExport(
  header: ExportHeader,
  pages: AsyncIterable<ExportPage>,
): AsyncGenerator<Buffer> {
  const mtime = Math.floor(header.exportedAt / 1000);
  const manifest = {
    format: `${EXPORT_FORMAT}+csv`,
    workspace_id: header.workspaceId,
    profile_id: header.profileId,
    exported_at: new Date(header.exportedAt).toISOString(),
    computed_traits: header.computedTraits,
  };
  yield* tarEntry('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)), mtime);
  let eventPage = 0;
  for await (const page of pages) {
    if (page.rows.length === 0) continue;
    const name =
      page.section === 'events'
        ? `events-${String(++eventPage).padStart(5, '0')}.csv`
        : `${page.section}.csv`;
    yield* tarEntry(name, csvFile(page.rows), mtime);
  }
  yield Buffer.alloc(1024);
}

function* tarEntry(name: string, data: Buffer, mtime: number): Generator<Buffer> {
  const h = Buffer.alloc(512);
  const put = (text: string, at: number, len: number) => h.write(text.slice(0, len), at, len, 'ascii');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(data.length, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  yield h;
  yield data;
  const pad = (512 - (data.length % 512)) % 512;
  if (pad > 0) yield Buffer.alloc(pad);
}
