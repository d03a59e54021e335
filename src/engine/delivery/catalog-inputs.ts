/**
 * The catalogue inputs of a batch of sends (docs/catalog.md#in-templates): for the sends whose
 * template reads `recommendations` or `bought`, each customer's recommended and bought items, read for
 * the whole batch at once per workspace. A batch whose templates read neither costs nothing here.
 */
import type { Clock } from '../../domain/clock.js';
import type { Store } from '../../store/store.js';
import { RecommendationService, type CatalogInput } from '../recommendations.js';
import type { PendingAction } from './composer.js';
import type { TemplateService } from './templates.js';

export async function catalogInputs(
  store: Store,
  clock: Clock,
  templates: TemplateService,
  pending: readonly PendingAction[],
): Promise<(p: PendingAction) => CatalogInput | undefined> {
  const wanted = new Map<string, { ids: string[]; recommendations: boolean; bought: boolean }>();
  for (const p of pending) {
    if (p.action.kind !== 'send' || !p.profile) continue;
    const needs = (await templates.forSend(p.workspaceId, p.action.template))?.catalog;
    if (!needs || (!needs.recommendations && !needs.bought)) continue;
    let w = wanted.get(p.workspaceId);
    if (!w) wanted.set(p.workspaceId, (w = { ids: [], recommendations: false, bought: false }));
    w.ids.push(p.profile.id);
    w.recommendations ||= needs.recommendations;
    w.bought ||= needs.bought;
  }
  if (wanted.size === 0) return () => undefined;
  const service = new RecommendationService(store, clock);
  const found = new Map<string, Map<string, CatalogInput>>();
  for (const [ws, w] of wanted) found.set(ws, await service.forProfiles(ws, w.ids, w));
  return (p) => (p.profile ? found.get(p.workspaceId)?.get(p.profile.id) : undefined);
}
