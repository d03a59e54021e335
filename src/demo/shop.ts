import { CAMPAIGNS, COMPANIES, HOUR_WEIGHTS, PHONES, type Campaign } from './catalog.js';
import { DemoIds } from './ids.js';
import { AppTouchpoint, CustomerLog, WebTouchpoint, type SegmentMessage } from './log.js';
import { createPerson, type Person } from './person.js';
import { Rng } from './random.js';
import { Story } from './story.js';

export type { SegmentMessage } from './log.js';

/*
 * A synthetic history of a Japanese online shop with an international storefront, as the raw
 * Segment messages its SDKs would have sent: for `kizuna demo`, benchmarks and dashboard work.
 *
 * Each customer's story: anonymous web visits (some from a campaign) → for 70%, sign-up (identify
 * carrying the web anonymousId and the new userId) → visits in random order: orders (Pareto-many),
 * browsing, newsletters from the back end, maybe an app install (a second anonymousId, linked by
 * identify at login). A few join a company (group); some lapse and go silent 60+ days before
 * `now`; visits cluster at waking hours in the customer's own time zone.
 *
 * Measured on a 2-core machine: ~32 messages per customer, about a million messages in 2 seconds.
 */

export interface ShopOptions {
  /** How many customers (people who ever visited), each yielded as one batch. */
  customers: number;
  /** An integer, taken modulo 2^32; the same seed always gives the same history. Default `DEFAULT_SEED`. */
  seed?: number;
  /** The end of the history, epoch ms; no message is later. */
  now: number;
  /** Length of the history window ending at `now`. Default `DEFAULT_DAYS`. */
  days?: number;
}

export const DEFAULT_SEED = 1;
export const DEFAULT_DAYS = 180;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Share of visitors who never sign up: the anonymous long tail every shop has. */
const NEVER_IDENTIFY = 0.3;
/** Share of members (among those old enough) who stop coming at least 60 days before `now`. */
const LAPSE = 0.45;

interface World {
  readonly seed: number;
  readonly ids: DemoIds;
  readonly start: number;
  readonly now: number;
}

/**
 * Yields each customer's messages (time-ordered) one customer at a time, so millions of events
 * stream in constant memory.
 *
 * Contract: the output is a function of (seed, now, days): customer `i` comes from its own random
 * stream, so it is the same whatever `customers` is (a larger run extends a smaller one). All
 * timestamps lie in [now - days, now]. messageIds are unique within a seed and depend only on the
 * seed, the customer and the message's position in that customer's history, not on `now`: loading
 * the same seed twice stores nothing new under messageId dedup, and a re-run at a later `now` adds
 * at most the messages beyond the length of each customer's first history.
 */
export function generateShop(opts: ShopOptions): Generator<SegmentMessage[], void, void> {
  // Checked here, outside the generator body, so bad options throw at the call, not at first use.
  const days = opts.days ?? DEFAULT_DAYS;
  if (!Number.isInteger(opts.customers) || opts.customers < 0) {
    throw new RangeError(`customers must be a non-negative integer, got ${opts.customers}`);
  }
  if (!Number.isFinite(opts.now)) throw new RangeError(`now must be epoch milliseconds, got ${opts.now}`);
  if (!(days > 0) || !Number.isFinite(days)) throw new RangeError(`days must be positive, got ${days}`);
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const u32 = seed >>> 0;
  const world: World = { seed: u32, ids: new DemoIds(u32), start: opts.now - days * DAY, now: opts.now };
  return customers(world, opts.customers);
}

function* customers(world: World, count: number): Generator<SegmentMessage[], void, void> {
  for (let i = 0; i < count; i++) yield customerHistory(world, i);
}

function customerHistory(world: World, index: number): SegmentMessage[] {
  const rng = new Rng(world.seed, index);
  const person = createPerson(rng, index, world.ids);
  const span = world.now - world.start;
  // Keeps visits (a few minutes long) inside the window; shrinks for windows of a few hours.
  const margin = Math.min(2 * HOUR, span / 4);
  // A growing shop: more first visits lately than long ago.
  const firstSeen = world.start + (span - margin) * Math.pow(rng.next(), 0.8);
  const log = new CustomerLog(world.ids, person, Math.round(firstSeen));
  const story = new Story(log, rng, world.ids, person);
  const web = new WebTouchpoint(world.ids.anonymousId(index, 0), person);
  const firstCampaign = rng.chance(0.35) ? rng.pick(CAMPAIGNS) : undefined;
  story.browse(web, firstCampaign);

  if (rng.chance(NEVER_IDENTIFY)) {
    const visits = Math.min(3, Math.floor(rng.exp(0.7)));
    const last = Math.min(world.now - margin, firstSeen + 30 * DAY);
    for (const t of visitTimes(rng, person, log.t, last, visits)) {
      log.t = Math.max(t, log.t + 20 * MINUTE);
      story.browse(web, rng.chance(0.2) ? rng.pick(CAMPAIGNS) : undefined);
    }
    return log.finish(world.now);
  }

  const lapsed = firstSeen < world.now - 90 * DAY && rng.chance(LAPSE);
  const end = lapsed ? rng.between(firstSeen + 14 * DAY, world.now - 61 * DAY) : world.now;
  const lastVisit = end - margin;

  // Some sign up on their first visit, others come back a few days later.
  const sameVisit = rng.chance(0.45);
  if (!sameVisit) {
    const signUpAt = Math.min(lastVisit, log.t + 30 * MINUTE + rng.exp(4 * DAY));
    const before = rng.int(0, 2);
    for (const t of visitTimes(rng, person, log.t + HOUR, signUpAt, before)) {
      log.t = Math.max(t, log.t + 20 * MINUTE);
      story.browse(web);
    }
    log.t = Math.max(signUpAt, log.t + 20 * MINUTE);
  }
  story.signUp(web, signUpTraits(rng, person), rng.chance(0.05), sameVisit);
  if (rng.chance(0.06)) story.joinCompany(web, rng.int(0, COMPANIES.length - 1));

  const visits = planVisits(rng, (lastVisit - log.t) / DAY);
  const times = visitTimes(rng, person, log.t + HOUR, lastVisit, visits.length);
  let app: AppTouchpoint | undefined;
  let emails = 0;
  for (let i = 0; i < visits.length; i++) {
    log.t = Math.max(times[i] ?? log.t, log.t + 20 * MINUTE);
    const tp = app && rng.chance(0.65) ? app : web;
    switch (visits[i]) {
      case 'order':
        story.shop(tp, tp === web && rng.chance(0.15) ? rng.pick(CAMPAIGNS) : undefined);
        break;
      case 'browse':
        story.browse(tp, tp === web && rng.chance(0.1) ? rng.pick(CAMPAIGNS) : undefined);
        break;
      case 'email':
        if (story.newsletter(++emails)) story.browse(web, newsletterCampaign(rng));
        break;
      case 'install':
        app = installApp(rng, world, person, story);
        break;
    }
  }
  return log.finish(end);
}

type Visit = 'order' | 'browse' | 'email' | 'install';

/**
 * What a member does after signing up, in random order. Orders follow a power law (Pareto, capped):
 * most buy once or never, a few buy dozens of times; a customer who joined recently has had less
 * time, so the count shrinks with the days left.
 */
function planVisits(rng: Rng, daysLeft: number): Visit[] {
  if (daysLeft <= 0) return [];
  const visits: Visit[] = [];
  const buyer = rng.chance(0.75);
  const appetite = buyer ? Math.min(60, Math.floor(rng.pareto(1.25))) : 0;
  const orders = buyer ? Math.max(1, Math.round(appetite * Math.min(1, daysLeft / 90))) : 0;
  for (let i = 0; i < orders; i++) visits.push('order');
  const browses = Math.floor(orders * 0.6 + rng.exp(1.2));
  for (let i = 0; i < browses; i++) visits.push('browse');
  if (rng.chance(0.6)) {
    const opened = Math.floor((daysLeft / 30) * rng.between(0.2, 1.2));
    for (let i = 0; i < opened; i++) visits.push('email');
  }
  if (rng.chance(0.4)) visits.push('install');
  for (let i = visits.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const v = visits[i] as Visit;
    visits[i] = visits[j] as Visit;
    visits[j] = v;
  }
  return visits;
}

/** `n` visit start times in [lo, hi], ascending, mostly at the customer's waking hours (local time). */
function visitTimes(rng: Rng, person: Person, lo: number, hi: number, n: number): number[] {
  const times: number[] = [];
  if (hi <= lo) return times;
  const offset = person.region.offsetMin * MINUTE;
  for (let i = 0; i < n; i++) {
    const u = rng.between(lo, hi);
    const localDay = Math.floor((u + offset) / DAY) * DAY;
    const t = localDay - offset + HOUR_WEIGHTS.pick(rng) * HOUR + Math.floor(rng.next() * HOUR);
    times.push(Math.round(t >= lo && t <= hi ? t : u));
  }
  return times.sort((a, b) => a - b);
}

function signUpTraits(rng: Rng, person: Person): Record<string, unknown> {
  return {
    email: person.email,
    name: person.name,
    firstName: person.firstName,
    lastName: person.lastName,
    ...(person.phone !== undefined && { phone: person.phone }),
    plan: rng.chance(0.15) ? 'premium' : 'free',
    address: { city: person.city, country: person.region.country },
  };
}

/** A phone with its own SDK: a second anonymousId, linked to the customer when they log in. */
function installApp(rng: Rng, world: World, person: Person, story: Story): AppTouchpoint {
  const phone = PHONES.pick(rng);
  const anonymousId = world.ids.anonymousId(person.index, 1, phone.platform === 'ios');
  const ip = `203.0.113.${rng.int(1, 254)}`;
  const app = new AppTouchpoint(anonymousId, person, phone, ip);
  story.installApp(app);
  return app;
}

function newsletterCampaign(rng: Rng): Campaign {
  return {
    source: 'newsletter',
    medium: 'email',
    name: rng.pick(['weekly', 'restock', 'members_sale']),
    referrer: '',
  };
}
