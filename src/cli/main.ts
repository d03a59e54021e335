#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { createApp, createDelivery, createLogger, openStore, workerName, type App } from '../app.js';
import { JourneyRunner } from '../engine/journeys/runner.js';
import { TemplateService } from '../engine/delivery/templates.js';
import { loadConfig } from '../config.js';
import { ConflictError, KizunaError, NotFoundError, ValidationError } from '../errors.js';
import { createStaffUser } from '../access/users.js';
import { systemClock } from '../domain/clock.js';
import { reevaluateAll } from '../engine/reevaluation.js';
import { createProgress } from './progress.js';
import { createWorkspace } from '../workspace.js';
import { runDemo } from './demo.js';
import { RecommendationService } from '../engine/recommendations.js';

/**
 * `kizuna`: start the server, create workspaces, fill a demo shop, re-evaluate engagement. Every command reads the same
 * settings (flags, then PORT / KIZUNA_DATA_DIR / DATABASE_URL), so they all meet the same store.
 */
const program = new Command()
  .name('kizuna')
  .description('Kizuna: an open-source customer engagement platform')
  .showHelpAfterError();

program
  .command('start')
  .description('run migrations and serve the ingestion and admin APIs')
  .option('-p, --port <port>', 'port to listen on (env PORT, default 3000)')
  .option('--host <host>', 'address to bind (env HOST, default localhost)')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR, default ./.kizuna)')
  .action(async (flags: { port?: string; host?: string; data?: string }) => {
    const config = loadConfig(process.env, flags);
    const app = await createApp(config);
    if ((await app.store.countWorkspaces()) === 0) await createDemoWorkspace(app);
    const address = await app.listen();
    app.logger.info(
      { address, store: config.databaseUrl ? 'postgres' : config.dataDir },
      'kizuna is listening',
    );
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.logger.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('worker')
  .description(
    'run only the journey runner and the message dispatcher (more workers share the work on PostgreSQL)',
  )
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .option('--batch <n>', 'entries claimed per transaction', positiveInt, 1000)
  .option(
    '--lease <seconds>',
    "how long a claim lasts before a dead worker's entries are taken over",
    positiveInt,
    60,
  )
  .action(async (flags: { data?: string; batch: number; lease: number }) => {
    const config = loadConfig(process.env, { data: flags.data });
    const store = openStore(config);
    await store.migrate();
    const logger = createLogger(config);
    const { dispatcher, links } = createDelivery(config, store, systemClock, logger);
    const runner = new JourneyRunner(store, systemClock, logger, {
      templates: new TemplateService(store, systemClock, links),
      worker: workerName(),
      batch: flags.batch,
      leaseMs: flags.lease * 1000,
      onQueued: () => dispatcher.nudge(),
    });
    runner.start();
    dispatcher.start();
    logger.info(
      { worker: workerName(), store: config.databaseUrl ? 'postgres' : config.dataDir },
      'journey runner started',
    );
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      runner
        .stop()
        .then(() => dispatcher.stop())
        .then(() => store.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

const workspace = program.command('workspace').description('manage workspaces');
workspace
  .command('create')
  .description('create a workspace and print its write key and admin key')
  .argument('<name>', 'workspace name')
  .option('--json', 'print {"id","writeKey","adminKey"} as JSON')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(async (name: string, flags: { json?: boolean; data?: string }) => {
    const config = loadConfig(process.env, { data: flags.data });
    const store = openStore(config);
    try {
      await store.migrate();
      const ws = await createWorkspace(store, name);
      if (flags.json)
        process.stdout.write(
          `${JSON.stringify({ id: ws.id, writeKey: ws.writeKey, adminKey: ws.adminKey })}\n`,
        );
      else
        process.stdout.write(
          `workspace ${ws.name} (${ws.id})\n  write key: ${ws.writeKey}\n  admin key: ${ws.adminKey}\n`,
        );
    } finally {
      await store.close();
    }
  });

const user = program.command('user').description('manage staff users (docs/access.md)');
user
  .command('create')
  .description('create a staff user and print {"id","email","role"} as JSON')
  .requiredOption('-w, --workspace <id or name>', 'the workspace the user works in')
  .requiredOption('--email <email>', 'sign-in e-mail (unique within the workspace)')
  .requiredOption('--role <role>', 'admin, marketer, analyst or support')
  .option('--name <name>', 'display name (default: the part of the e-mail before @)')
  .option('--locale <locale>', 'UI language: en or ja', 'en')
  .option('--password-stdin', 'read the password from standard input (required: never on the command line)')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(
    async (flags: {
      workspace: string;
      email: string;
      role: string;
      name?: string;
      locale: string;
      passwordStdin?: boolean;
      data?: string;
    }) => {
      if (!flags.passwordStdin)
        throw new ValidationError([
          {
            field: '--password-stdin',
            rule: 'is required: pipe the password in, so it stays out of shell history',
          },
        ]);
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const store = openStore(loadConfig(process.env, { data: flags.data }));
      try {
        await store.migrate();
        const ws =
          (await store.findWorkspaceByName(flags.workspace)) ??
          (await store.listWorkspaces()).find((w) => w.id === flags.workspace);
        if (!ws) throw new NotFoundError(`no workspace with id or name "${flags.workspace}"`);
        const u = await createStaffUser(store, systemClock, ws.id, {
          email: flags.email,
          role: flags.role,
          locale: flags.locale,
          password,
          ...(flags.name !== undefined && { name: flags.name }),
        });
        process.stdout.write(`${JSON.stringify({ id: u.id, email: u.email, role: u.role })}\n`);
      } finally {
        await store.close();
      }
    },
  );

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program
  .command('demo')
  .description('fill a workspace with a synthetic shop history (seeded, repeatable)')
  .option('-c, --customers <n>', 'number of customers', positiveInt, 1000)
  .option('-w, --workspace <name>', 'workspace to fill (created if missing)', 'demo')
  .option('--seed <n>', 'random seed', positiveInt, 1)
  .option('--days <n>', 'days of history, ending now', positiveInt, 180)
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(
    async (flags: { customers: number; workspace: string; seed: number; days: number; data?: string }) => {
      const config = loadConfig(process.env, { data: flags.data });
      const store = openStore(config);
      try {
        await store.migrate();
        await runDemo(store, { ...flags, out: process.stderr });
      } finally {
        await store.close();
      }
    },
  );

program
  .command('recommendations')
  .description('product recommendations (docs/catalog.md)')
  .command('rebuild')
  .description("recompute every item's similar items from customers' recent views and purchases")
  .option('-w, --workspace <name>', 'workspace', 'demo')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(async (flags: { workspace: string; data?: string }) => {
    const store = openStore(loadConfig(process.env, { data: flags.data }));
    try {
      await store.migrate();
      const ws = await store.findWorkspaceByName(flags.workspace);
      if (!ws) throw new NotFoundError(`no workspace named "${flags.workspace}"`);
      const progress = createProgress({
        total: await store.countProfiles(ws.id),
        label: 'reading customers',
        unit: 'customers',
      });
      let shown = 0;
      const r = await new RecommendationService(store, systemClock).rebuild(ws.id, (p) => {
        progress.tick(p.done - shown);
        shown = p.done;
      });
      progress.done();
      process.stdout.write(
        `${r.customers} customers read (${r.customersWithItems} with catalogue items), ${r.itemsWithSimilar} of ${r.catalogItems} available items have similar items (${r.pairs} pairs), in ${(r.durationMs / 1000).toFixed(1)} s\n`,
      );
    } finally {
      await store.close();
    }
  });

program
  .command('reevaluate')
  .description(
    "re-evaluate every profile's stage and segments now (and with --rebuild-facts, recompute its facts from stored events)",
  )
  .option('-w, --workspace <name>', 'workspace', 'demo')
  .option('--rebuild-facts', 'recompute facts from the stored events first (slow: reads every event)')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(async (flags: { workspace: string; rebuildFacts?: boolean; data?: string }) => {
    const store = openStore(loadConfig(process.env, { data: flags.data }));
    try {
      await store.migrate();
      const ws = await store.findWorkspaceByName(flags.workspace);
      if (!ws) throw new NotFoundError(`no workspace named "${flags.workspace}"`);
      const total = await store.countProfiles(ws.id);
      const progress = createProgress({ total, label: 're-evaluating', unit: 'profiles' });
      const started = Date.now();
      let shown = 0;
      const r = await reevaluateAll(store, systemClock, ws.id, {
        rebuildFacts: flags.rebuildFacts ?? false,
        onProgress: (p) => {
          progress.tick(p.done - shown);
          shown = p.done;
        },
      });
      progress.done();
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      // The kept per-stage counts are exact by construction; recounting repairs them after a fault.
      const counts = await store.recountStages(ws.id);
      const staged = Object.values(counts).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `${r.processed} profiles re-evaluated, ${r.changed} changed stage or segments, in ${seconds} s; stage counts recounted (${staged} profiles)\n`,
      );
    } finally {
      await store.close();
    }
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .option('-d, --data <dir>', 'SQLite data directory (env KIZUNA_DATA_DIR)')
  .action(async (flags: { data?: string }) => {
    const store = openStore(loadConfig(process.env, { data: flags.data }));
    try {
      const { applied } = await store.migrate();
      process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'nothing to apply\n');
    } finally {
      await store.close();
    }
  });

/** The first start on an empty store creates workspace "demo" and shows its keys, once. */
async function createDemoWorkspace(app: App): Promise<void> {
  let ws;
  try {
    ws = await createWorkspace(app.store, 'demo');
  } catch (err) {
    // Another server sharing the database got there first: its keys were shown there.
    if (err instanceof ConflictError) return;
    throw err;
  }
  app.logger.info(
    { workspace: ws.id, name: ws.name },
    'created workspace "demo" (its keys are printed once, on stderr)',
  );
  process.stderr.write(
    `\n  Created workspace "demo". These keys are shown once; keep them:\n` +
      `    write key (SDKs):      ${ws.writeKey}\n` +
      `    admin key (admin API): ${ws.adminKey}\n\n`,
  );
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof KizunaError) {
    process.stderr.write(`kizuna: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`kizuna: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
