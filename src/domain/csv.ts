/**
 * A small RFC 4180 CSV reader for catalogue uploads (docs/catalog.md), so no dependency is needed:
 * comma-separated fields, records ended by CRLF or LF, fields in double quotes may hold commas, line
 * breaks and doubled quotes (`""`). A UTF-8 byte order mark is dropped and blank lines are skipped.
 * Each record carries the line it starts on, so errors can name it.
 */
export interface CsvRecord {
  /** 1-based line of the file where the record starts */
  readonly line: number;
  readonly fields: string[];
}

export type CsvResult = { ok: true; records: CsvRecord[] } | { ok: false; line: number; reason: string };

export function parseCsv(text: string): CsvResult {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < s.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (s[i] === '"') {
        i++;
        for (;;) {
          if (i >= s.length) return { ok: false, line: start, reason: 'a quoted field is not closed' };
          const c = s[i]!;
          if (c === '"') {
            if (s[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        const next = s[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          return {
            ok: false,
            line,
            reason: 'text after a closing quote (write a quote inside quotes as "")',
          };
        }
      } else {
        const from = i;
        while (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          if (s[i] === '"') return { ok: false, line, reason: 'a quote inside an unquoted field' };
          i++;
        }
        value = s.slice(from, i);
      }
      fields.push(value);
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (s[i] === '\r') i++;
    if (s[i] === '\n') i++;
    line++;
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
  }
  return { ok: true, records };
}

/**
 * One CSV record (RFC 4180) ended by CRLF: fields with commas, quotes or line breaks are quoted. Text
 * starting with = + - @ gets a leading apostrophe, so a spreadsheet opening a report never runs a
 * customer's comment as a formula; numbers are written as they are.
 */
export function csvRecord(fields: readonly (string | number | null)[]): string {
  return (
    fields
      .map((f) => {
        if (f === null) return '';
        if (typeof f === 'number') return Number.isFinite(f) ? String(f) : '';
        const t = /^[=+\-@\t\r]/.test(f) ? `'${f}` : f;
        return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
      })
      .join(',') + '\r\n'
  );
}
