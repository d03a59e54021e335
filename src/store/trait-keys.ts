/**
 * Trait keys a process has already recorded, per workspace, so a batch sends only the keys that are new
 * (PostgreSQL: it saves a round trip per batch). Remember keys only after their write succeeded.
 * Bounded: past the limit keys are simply written again (an idempotent insert), never refused.
 */
export class TraitKeyCache {
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly limit = 10_000) {}

  unseen(workspaceId: string, keys: readonly string[]): string[] {
    const known = this.seen.get(workspaceId);
    return known ? keys.filter((k) => !known.has(k)) : [...keys];
  }

  remember(workspaceId: string, keys: readonly string[]): void {
    let known = this.seen.get(workspaceId);
    if (!known) {
      known = new Set();
      this.seen.set(workspaceId, known);
    }
    for (const k of keys) if (known.size < this.limit) known.add(k);
  }
}
