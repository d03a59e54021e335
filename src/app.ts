import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { buildServer } from './http/server.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';
import { SegmentBuilder } from './engine/builder.js';
import { EngagementService } from './engine/engagement.js';
import { LtvService } from './engine/ltv.js';
import { Sweeper } from './engine/sweeper.js';
import { JourneyRunner } from './engine/journeys/runner.js';
import { JourneyService } from './engine/journeys/service.js';
import { hostname } from 'node:os';
import { loadSecretKey, SecretBox } from './channels/secret-box.js';
import { ChannelService } from './engine/delivery/channels.js';
import { Dispatcher } from './engine/delivery/dispatcher.js';
import { emailDriver, lineDriver, smsDriver, webhookDriver } from './engine/delivery/drivers.js';
import { pushDriver, webPushDriver } from './engine/delivery/push-drivers.js';
import { LinkSigner } from './channels/links.js';
import { TemplateService } from './engine/delivery/templates.js';
import { AbWinnerService } from './engine/journeys/ab-winner.js';
import { PollLoop } from './engine/poll-loop.js';

/**
 * The composition root: the one place that picks implementations and wires them together by hand.
 */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { service: 'kizuna' } });
}

/** The store the configuration selects: PostgreSQL when DATABASE_URL is set, else the SQLite file. */
export function openStore(config: Config, clock: Clock = systemClock): Store {
  return config.databaseUrl
    ? PostgresStore.open({ url: config.databaseUrl, clock })
    : SqliteStore.open({ path: join(config.dataDir, 'kizuna.db'), clock, writer: 'thread' });
}

/** Channel configuration and the dispatcher that delivers the outbox (docs/channels.md). */
export function createDelivery(
  config: Config,
  store: Store,
  clock: Clock,
  logger: Logger,
): { channels: ChannelService; dispatcher: Dispatcher; links: LinkSigner; box: SecretBox } {
  const key = loadSecretKey(config.secretKey, join(config.dataDir, 'secret.key'));
  const box = new SecretBox(key);
  const channels = new ChannelService(store, clock, box);
  const links = new LinkSigner(key, () => config.publicUrl);
  const dispatcher = new Dispatcher(store, clock, logger, channels, {
    worker: workerName(),
    drivers: {
      webhook: webhookDriver(),
      email: emailDriver(links),
      sms: smsDriver(),
      line: lineDriver(),
      push: pushDriver(store),
      web_push: webPushDriver(store),
    },
  });
  return { channels, dispatcher, links, box };
}

export interface App {
  store: Store;
  channels: ChannelService;
  dispatcher: Dispatcher;
  engagement: EngagementService;
  builder: SegmentBuilder;
  sweeper: Sweeper;
  journeys: JourneyService;
  runner: JourneyRunner;
  server: FastifyInstance;
  logger: Logger;
  /** listens and resolves with the bound address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createApp(
  config: Config,
  opts: { clock?: Clock; logger?: Logger; store?: Store } = {},
): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config);
  const store = opts.store ?? openStore(config, clock);
  const { applied } = await store.migrate();
  if (applied.length > 0) logger.info({ applied }, 'applied migrations');
  const builder = new SegmentBuilder(store, clock, logger, 1000);
  const engagement = new EngagementService(store, clock, builder);
  const ltv = new LtvService(store, clock, engagement);
  const sweeper = new Sweeper(store, clock, logger, config.sweepIntervalMinutes * 60_000);
  const { channels, dispatcher, links, box } = createDelivery(config, store, clock, logger);
  const templates = new TemplateService(store, clock, links);
  const journeys = new JourneyService(store, clock, engagement, templates);
  const runner = new JourneyRunner(store, clock, logger, {
    worker: workerName(),
    onQueued: () => dispatcher.nudge(),
    templates,
  });
  const winners = new AbWinnerService(store, clock);
  // A/B broadcasts waiting for their winner are looked at twice a minute; runDue is idempotent.
  const winnerLoop = new PollLoop(() => winners.runDue(), {
    batch: Number.MAX_SAFE_INTEGER,
    pollMs: 30_000,
    logger,
    what: 'A/B winner',
  });
  // Scheduled LTV refits (docs/ltv.md#refits) are looked for every quarter of an hour.
  const ltvLoop = new PollLoop(() => ltv.refitDue(logger), {
    batch: Number.MAX_SAFE_INTEGER,
    pollMs: 15 * 60_000,
    logger,
    what: 'LTV refit',
  });
  const server = buildServer({
    store,
    clock,
    logger,
    engagement,
    ltv,
    journeys,
    winners,
    channels,
    dispatcher,
    templates,
    links,
    box,
    onJourneyWork: () => runner.nudge(),
    logRequests: config.logRequests,
    trustProxy: config.trustProxy,
    secureCookies: config.publicUrl.startsWith('https:'),
    keyRateLimit:
      config.keyRateLimit > 0 ? { perSecond: config.keyRateLimit, burst: config.keyRateBurst } : null,
  });
  return {
    store,
    channels,
    dispatcher,
    engagement,
    builder,
    sweeper,
    journeys,
    runner,
    server,
    logger,
    async listen() {
      const address = await server.listen({ port: config.port, host: config.host });
      // Background work starts with serving: unfinished segment builds, then the time-based sweep.
      await builder.resume();
      if (config.sweepIntervalMinutes > 0) {
        sweeper.start();
        ltvLoop.start();
      }
      if (config.runJourneys) {
        runner.start();
        winnerLoop.start();
      }
      if (config.runDelivery) dispatcher.start();
      return address;
    },
    async close() {
      await server.close();
      await winnerLoop.stop();
      await ltvLoop.stop();
      await runner.stop();
      await dispatcher.stop();
      await sweeper.stop();
      await builder.idle();
      await store.close();
    },
  };
}

/** How this process names itself in journey claims. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}
