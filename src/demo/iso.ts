const DAY = 86_400_000;
const PAD2 = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

let cachedDay = NaN;
let cachedPrefix = '';

/**
 * `new Date(ms).toISOString()`, several times faster: a customer's messages fall on few distinct
 * days, so the date part is formatted once per day and the time of day by table. Generating the
 * demo spends more time here than anywhere else without it. Valid for 1970..9999, like ingestion.
 */
export function isoTimestamp(ms: number): string {
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  let rest = ms - day * DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const milli = Math.floor(rest - s * 1000);
  return `${cachedPrefix}${PAD2[h] ?? ''}:${PAD2[m] ?? ''}:${PAD2[s] ?? ''}.${PAD3[milli] ?? ''}Z`;
}
