/** Console reporting: the SDK never throws into the host page, it says what went wrong once per kind. */
const said = new Set<string>();

export function warnOnce(kind: string, message: string): void {
  if (said.has(kind)) return;
  said.add(kind);
  try {
    console.warn(`[kizuna] ${message}`);
  } catch {
    // no console: nothing to report to
  }
}
