import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.js';
import type { EventType } from '../domain/event.js';
import type { KeyAuth } from '../http/auth.js';
import type { Store } from '../store/store.js';
import { eventsOfRequest, writeKeyOf } from './request.js';

export interface IngestDeps {
  store: Store;
  auth: KeyAuth;
  clock: Clock;
  onJourneyWork?: (() => void) | undefined;
}

const SINGLE: readonly EventType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

/**
 * The Segment HTTP Tracking API: POST /v1/{identify,track,page,screen,group,alias,batch}. A 200
 * means every event of the request is committed (or was already stored under its messageId).
 */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  const handle = (endpoint: EventType | 'batch') => async (req: FastifyRequest) => {
    const key = writeKeyOf(req.headers.authorization, req.body);
    const workspaceId = await deps.auth.workspaceOf(key, 'write');
    const events = eventsOfRequest(req.body, endpoint, { receivedAt: deps.clock.now(), ip: req.ip });
    const result = await deps.store.ingest(workspaceId, events);
    if (result.journeyWork > 0) deps.onJourneyWork?.();
    return {
      success: true,
      stored: result.stored,
      duplicates: result.duplicates,
      // accepted and dropped: they named an erased customer (docs/privacy.md#tombstones)
      ...(result.discarded > 0 && { discarded: result.discarded }),
    };
  };
  for (const type of SINGLE) app.post(`/v1/${type}`, handle(type));
  app.post('/v1/batch', handle('batch'));
  // Some SDKs name the batch endpoint /v1/import.
  app.post('/v1/import', handle('batch'));
}
