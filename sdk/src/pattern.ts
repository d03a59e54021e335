/**
 * A message's `urlPattern`: `*` matches any run of characters, everything else itself. Matched against
 * `pathname + search`, or against the whole `href` when the pattern starts with `http`. Matched by hand
 * (greedy with backtracking to the last star, O(pattern × url)), never through a RegExp built from
 * server text.
 */
export function matchesUrl(
  pattern: string,
  loc: { href: string; pathname: string; search: string },
): boolean {
  const s = pattern.startsWith('http') ? loc.href : loc.pathname + loc.search;
  return glob(pattern, s);
}

export function glob(p: string, s: string): boolean {
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    if (i < p.length && p[i] !== '*' && p[i] === s[j]) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}
