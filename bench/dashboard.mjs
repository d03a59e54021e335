// npm run bench:dashboard — how long each dashboard screen takes to load in real headless Chromium on a
// demo workspace of BENCH_CUSTOMERS customers (default 100,000; the store is the one bench:engagement
// keeps in bench/.data/engagement-N), against the same screens on an empty workspace of the same server
// (the baseline, measured in the same run). A screen counts as loaded when its data has arrived and is
// drawn: no request in flight, nothing marked aria-busy, for 150 ms; the figure is the moment that quiet
// began, from the start of the navigation (a full page load, not a client-side route change).
/* global window, document, fetch -- these callbacks run in the page */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CLI, copyStore, demoStore, fmt, peakRssMb, percentile, startServer, stopServer } from './lib.mjs';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'bench-password-1234';
const line = (s = '') => process.stdout.write(`${s}\n`);

if (!existsSync(CHROMIUM)) {
  line(`bench:dashboard needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(1);
}

const { data } = demoStore(CUSTOMERS);
const dir = copyStore(data, 'kizuna-bench-dash-');
const env = { KIZUNA_DATA_DIR: dir, DATABASE_URL: '' };

function cli(args, input) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kizuna ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
cli(['workspace', 'create', 'empty', '--json']);
for (const ws of ['bench', 'empty'])
  cli(
    ['user', 'create', '-w', ws, '--email', `admin@${ws}.test`, '--role', 'admin', '--password-stdin'],
    PASSWORD,
  );

const server = await startServer(env);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

// Counts the page's own requests in flight, so "loaded" means the screen's data has arrived.
const COUNT_FETCHES = () => {
  const w = window;
  w.__inflight = 0;
  const original = w.fetch.bind(w);
  w.fetch = (...args) => {
    w.__inflight++;
    return original(...args).finally(() => w.__inflight--);
  };
};
const QUIET = () => {
  const w = window;
  const quiet =
    document.readyState === 'complete' &&
    document.querySelector('main h1, main h2') !== null &&
    document.querySelector('[aria-busy="true"]') === null &&
    w.__inflight === 0;
  const now = performance.now();
  if (!quiet) w.__quietSince = undefined;
  else if (w.__quietSince === undefined) w.__quietSince = now;
  return w.__quietSince !== undefined && now - w.__quietSince >= 150 ? w.__quietSince : false;
};

async function session(ws) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
  await context.addInitScript(COUNT_FETCHES);
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.getByLabel('E-mail address').fill(`admin@${ws}.test`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
  return { context, page };
}

/** Milliseconds from navigation start until the screen is quiet; `path` is loaded afresh. */
async function load(page, path) {
  await page.goto(`${server.url}${path}`, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(QUIET, undefined, { polling: 'raf', timeout: 60_000 });
  return Number(await handle.jsonValue());
}

/** The screens to time: ids of a busy customer and of the first segment come from the admin API. */
async function screens(page) {
  const first = await page.evaluate(async () => {
    const get = async (p) => (await fetch(p)).json();
    const profiles = await get('/api/v1/profiles?limit=1');
    const segments = await get('/api/v1/segments');
    const journeys = await get('/api/v1/journeys');
    const pick = (x) =>
      (Array.isArray(x) ? x : (x.data ?? x.items ?? x.profiles ?? x.segments ?? x.journeys ?? []))[0];
    return { profile: pick(profiles)?.id, segment: pick(segments)?.id, journey: pick(journeys)?.id };
  });
  return [
    ['overview', '/'],
    ['customers', '/customers'],
    ...(first.profile ? [['customer 360°', `/customers/${first.profile}`]] : []),
    ['segments', '/segments'],
    ...(first.segment ? [['segment detail', `/segments/${first.segment}`]] : []),
    ['stages', '/stages'],
    ['journeys', '/journeys'],
    ...(first.journey ? [['journey', `/journeys/${first.journey}`]] : []),
    ['templates', '/templates'],
    ['reports', '/reports'],
    ['retention report', '/reports/retention'],
    ['message performance', '/reports/messages'],
    ['messaging', '/messaging'],
    ['settings', '/settings'],
  ];
}

async function measure(ws) {
  const { context, page } = await session(ws);
  const list = await screens(page);
  const out = new Map();
  for (const [name, path] of list) {
    const cold = await load(page, path);
    const warm = [];
    for (let i = 0; i < LOADS; i++) warm.push(await load(page, path));
    warm.sort((a, b) => a - b);
    out.set(name, { path, cold, median: percentile(warm, 50), max: warm[warm.length - 1] });
  }
  await context.close();
  return out;
}

try {
  line(
    `dashboard page loads in Chromium: ${fmt(CUSTOMERS)} customers vs an empty workspace, ${LOADS} loads each after a first (cold) one`,
  );
  line(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const base = await measure('empty');
  const big = await measure('bench');
  line('');
  line('| screen | path | cold | median | max | empty workspace median | ratio |');
  line('| --- | --- | --- | --- | --- | --- | --- |');
  let worst = 0;
  for (const [name, r] of big) {
    const b = base.get(name);
    worst = Math.max(worst, r.cold, r.max);
    line(
      `| ${name} | ${r.path.replace(/\/(p|seg|j)_[^/]+$/, '/…')} | ${fmt(r.cold)} ms | ${fmt(r.median)} ms | ${fmt(r.max)} ms | ${b ? `${fmt(b.median)} ms` : '—'} | ${b ? (r.median / b.median).toFixed(2) : '—'} |`,
    );
  }
  line('');
  line(`slowest load of any screen: ${fmt(worst)} ms (target < 1,000 ms)`);
  line(`server peak RSS ${fmt(peakRssMb(server.pid))} MB`);
  line(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  await browser.close();
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}
