/**
 * The JSON path of a top-level trait key for SQLite's `->` operator. Keys reaching the store have been
 * checked at the edge (no quote or backslash), so quoting them makes any other character safe.
 */
export function traitPath(key: string): string {
  if (/["\\]/.test(key))
    throw new Error(`trait key ${JSON.stringify(key)} must not contain quotes or backslashes`);
  return `$."${key}"`;
}
