import type { ConsentEntry } from '../../domain/consent.js';
import { recordConsents } from './rights.js';
import type { Definitions } from '../../domain/engagement/definitions.js';
import { routingSize, type EntryRow, type JourneyIndex } from '../../domain/journeys/route.js';
import type { ProfileState } from '../../domain/resolution.js';
import type { FactSourceEvent, ReevaluateTx, ReevaluationPlan } from '../reevaluate-unit.js';
import { profileState, type ProfileRow } from '../rows.js';
import {
  engagementFields,
  engagementRows,
  lockDefinitionsShared,
  withSegments,
  type DefinitionsCache,
} from './engagement.js';
import { ENGAGEMENT_COLUMNS, ENGAGEMENT_CTES, EXITS } from './ingest-statements.js';
import { named, type Sql } from './pg-driver.js';
import { loadEntries, writeRouting, type JourneyIndexCache } from './journeys.js';

// Re-evaluation runs a page at a time, each statement doing a page's work: they run unprepared
// (`Sql.once`), planned for the table as it is, which costs nothing beside the work and cannot keep
// a plan made while the tables were small.

/** A page of canonical profiles after `:after`, locked in id order. */
const LOAD_PAGE = named(
  'kizuna_reevaluate_page',
  `SELECT p.id, p.user_id, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at, p.event_count, p.created_at,
          p.updated_at, ${ENGAGEMENT_COLUMNS}
   FROM profiles p
   WHERE p.workspace_id = :ws::text AND p.merged_into IS NULL AND p.id > :after::text
   ORDER BY p.id LIMIT :limit::integer
   FOR UPDATE`,
);

/** The given profiles that are still canonical, locked in id order like a page. */
const LOAD_IDS = named(
  'kizuna_reevaluate_ids',
  `SELECT p.id, p.user_id, p.traits, p.trait_times, p.first_seen_at, p.last_seen_at, p.event_count, p.created_at,
          p.updated_at, ${ENGAGEMENT_COLUMNS}
   FROM profiles p
   WHERE p.workspace_id = :ws::text AND p.id = ANY(:ids::text[]) AND p.merged_into IS NULL
   ORDER BY p.id
   FOR UPDATE`,
);

/** The payload as text: the unit parses it only for the events whose properties a fact needs. */
const HISTORY_EVENTS = named(
  'kizuna_reevaluate_history_events',
  `SELECT profile_id, type, name, timestamp, payload::text AS payload FROM events
   WHERE workspace_id = :ws::text AND profile_id = ANY(:ids::text[])`,
);

const HISTORY_KINDS = named(
  'kizuna_reevaluate_history_kinds',
  `SELECT DISTINCT profile_id, kind FROM identities WHERE workspace_id = :ws::text AND profile_id = ANY(:ids::text[])`,
);

/**
 * The page's new state: profiles' facts and engagement (not `updated_at`: nothing the customer did
 * changed), segment entries and engagement events. The profiles are locked.
 */
const WRITE_PAGE = named(
  'kizuna_reevaluate_write',
  `WITH
   changed_profiles AS (
     UPDATE profiles p SET facts = COALESCE(t.facts, p.facts), stage = t.stage, previous_stage = t.previous_stage,
       stage_since = t.stage_since
     FROM json_to_recordset(:profiles::json) AS t (id text, facts json, stage text, previous_stage text,
                                                  stage_since bigint)
     WHERE p.workspace_id = :ws::text AND p.id = t.id),
   ${ENGAGEMENT_CTES}
   SELECT 1`,
);

/**
 * The re-evaluation unit of work inside one READ COMMITTED transaction (see `runReevaluate`).
 *
 * Concurrency: `definitions` first takes the workspace's lock in shared mode (engagement.ts), then
 * reads the definitions under it; `loadPage` locks the page's profiles `FOR UPDATE` in id order, as
 * ingest locks the profiles it touches, so an ingest of the same profiles waits for this page or this
 * page for it — never both on each other. A profile merged away while this page waited for its lock
 * no longer matches and is skipped (the row is re-checked once the lock is granted). Journey entries
 * are routed for the page's (locked) profiles, with the journey index of the definitions version read
 * under the shared lock.
 */
export class PostgresReevaluateTx implements ReevaluateTx {
  /** the definitions version read under the workspace's shared lock (final for this transaction) */
  private version: number | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly ws: string,
    private readonly defs: DefinitionsCache,
    private readonly journeys: JourneyIndexCache,
  ) {}

  async definitions(): Promise<Definitions> {
    await lockDefinitionsShared(this.sql, this.ws);
    const defs = await this.defs.get(this.sql, this.ws);
    this.version = defs.version;
    return defs;
  }

  journeyIndex(): Promise<JourneyIndex> {
    return this.journeys.get(this.sql, this.ws, this.version);
  }

  appendConsents(entries: readonly ConsentEntry[]): Promise<void> {
    return recordConsents(this.sql, this.ws, entries);
  }

  journeyEntries(profileIds: readonly string[]): Promise<Map<string, EntryRow[]>> {
    return loadEntries(this.sql, this.ws, profileIds);
  }

  /** Reads whole profiles: a projection is a read the SQLite adapter saves; here rows come whole. */
  async loadPage(
    after: string | null,
    limit: number,
    ids: readonly string[] | null,
  ): Promise<ProfileState[]> {
    const rows =
      ids === null
        ? await this.sql.once<ProfileRow>(LOAD_PAGE, { ws: this.ws, after: after ?? '', limit })
        : await this.sql.once<ProfileRow>(LOAD_IDS, { ws: this.ws, ids });
    return (await withSegments(this.sql, this.ws, rows)).map(profileState);
  }

  async loadHistory(
    profileIds: readonly string[],
  ): Promise<{ events: FactSourceEvent[]; kinds: { profileId: string; kind: string }[] }> {
    const args = { ws: this.ws, ids: profileIds };
    const events = await this.sql.once<{
      profile_id: string;
      type: string;
      name: string | null;
      timestamp: number;
      payload: string;
    }>(HISTORY_EVENTS, args);
    const kinds = await this.sql.once<{ profile_id: string; kind: string }>(HISTORY_KINDS, args);
    return {
      events: events.map((r) => ({
        profileId: r.profile_id,
        type: r.type,
        name: r.name,
        timestamp: r.timestamp,
        payload: r.payload,
      })),
      kinds: kinds.map((k) => ({ profileId: k.profile_id, kind: k.kind })),
    };
  }

  async writeReevaluation(plan: ReevaluationPlan): Promise<void> {
    if (plan.profiles.length === 0 && plan.changes.length === 0 && routingSize(plan.journeys) === 0) return;
    // Every argument is built before the first statement is sent, so a bad value changes nothing.
    const engagement = engagementRows(plan.changes, plan.engagementEvents);
    const moved = new Set(plan.changes.filter((c) => c.stageChange).map((c) => c.profileId));
    const rows = {
      ws: this.ws,
      now: plan.now,
      // Facts this evaluation did not change are left as stored (absent: NULL, kept by COALESCE); a
      // profile whose segments alone changed (a build's confirmation) is not written at all: its
      // memberships are rows of their own.
      profiles: JSON.stringify(
        plan.profiles.flatMap((p) => {
          const { facts, ...rest } = engagementFields(p);
          if (!plan.factsChanged || plan.factsChanged.has(p.id)) return [{ id: p.id, facts, ...rest }];
          return moved.has(p.id) ? [{ id: p.id, ...rest }] : [];
        }),
      ),
      entered: engagement.entered,
      engagement_events: engagement.engagement_events,
    };
    if (engagement.exits !== null) await this.sql.once(EXITS, { ws: this.ws, exits: engagement.exits });
    await this.sql.once(WRITE_PAGE, rows);
    await writeRouting(this.sql, this.ws, plan.journeys, plan.now);
  }
}
