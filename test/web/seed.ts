import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, kizuna, startKizuna, type Running } from '../cli/run.js';

/**
 * A real Kizuna process over a demo workspace, with what the dashboard's screens show added through
 * the public APIs: a template, a published journey with a control group that customers went through,
 * an NPS survey with answers and comments, and a staff note.
 */
/** Staff users the seed creates with `kizuna user create` (password on standard input). */
export const STAFF = {
  admin: { email: 'admin@shop.example', password: 'correct horse battery staple', role: 'admin' },
  support: { email: 'support@shop.example', password: 'support desk password 1', role: 'support' },
} as const;

function createUser(dir: string, u: { email: string; password: string; role: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'user',
        'create',
        '--workspace',
        'demo',
        '--email',
        u.email,
        '--role',
        u.role,
        '--password-stdin',
      ],
      { env: { ...process.env, DATABASE_URL: '', KIZUNA_DATA_DIR: dir } },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`user create: ${code} ${err}`))));
    child.stdin.end(`${u.password}\n`);
  });
}

export interface Seeded {
  server: Running;
  dir: string;
  adminKey: string;
  writeKey: string;
  workspace: string;
  journeyId: string;
  surveyId: string;
  /** a customer with an e-mail address and purchases */
  customer: { id: string; email: string; userId: string; firstName: string };
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

interface Profile {
  id: string;
  userId: string;
  traits: { email?: string; firstName?: string };
}

export async function seed(customers: number): Promise<Seeded> {
  const dir = mkdtempSync(join(tmpdir(), 'kizuna-dash-'));
  const demo = await kizuna(['demo', '--customers', String(customers), '--data', dir], {});
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
  const said = demo.stdout + demo.stderr;
  const adminKey = /admin key: (\S+)/.exec(said)?.[1];
  const writeKey = /write key: (\S+)/.exec(said)?.[1];
  const workspace = /workspace "demo" \((ws_\w+)\)/.exec(said)?.[1];
  if (!adminKey || !writeKey || !workspace) throw new Error(`no keys in: ${said}`);
  await createUser(dir, STAFF.admin);
  await createUser(dir, STAFF.support);
  const server = await startKizuna({ KIZUNA_DATA_DIR: dir });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const track = async (events: unknown[]) => {
    const res = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ batch: events }),
    });
    if (!res.ok) throw new Error(`batch: ${res.status} ${await res.text()}`);
  };

  const { profiles } = await api<{ profiles: Profile[] }>('GET', '/profiles?limit=200');
  const people = profiles.filter((p) => p.traits.email && p.traits.firstName && p.userId).slice(0, 60);
  const first = people[0];
  if (!first) throw new Error('the demo made no customer with an e-mail address');

  await api('POST', '/templates', {
    name: 'welcome',
    channel: 'email',
    default_locale: 'en',
    variants: {
      en: { subject: 'Thank you, {{ profile.firstName }}!', html: '<p>Hello {{ profile.firstName }}</p>' },
      ja: { subject: '{{ profile.lastName }}様、ありがとうございます', text: 'こんにちは' },
    },
  });
  const journey = await api<{ id: string }>('POST', '/journeys', {
    name: 'Thank-you after an order',
    trigger: { event: 'Order Completed' },
    start: 'split',
    steps: {
      split: {
        type: 'split',
        variants: [
          { name: 'A', percent: 50, next: 'thanks' },
          { name: 'control', percent: 50, next: 'done', control: true },
        ],
      },
      thanks: { type: 'send', channel: 'email', template: 'welcome', next: 'done' },
      done: { type: 'exit' },
    },
    goal: { event: 'Order Completed', within: '30d' },
  });
  await api('POST', `/journeys/${journey.id}/publish`, {});
  const order = (p: Profile, i: number, n: number) => ({
    type: 'track',
    event: 'Order Completed',
    userId: p.userId,
    messageId: `dash-order-${n}-${i}`,
    properties: { revenue: 3000 + i * 10 },
  });
  await track(people.map((p, i) => order(p, i, 1)));
  // Half of them order again: conversions for the journey's goal.
  await track(people.filter((_, i) => i % 2 === 0).map((p, i) => order(p, i, 2)));

  const survey = await api<{ id: string }>('POST', '/surveys', {
    from_template: 'nps_programme',
    name: 'NPS 2026',
  });
  for (const [i, p] of people.slice(0, 30).entries()) {
    await api('POST', `/surveys/${survey.id}/responses`, {
      userId: p.userId,
      answers: [
        {
          question: 'nps',
          value: i % 4 === 0 ? 4 : i % 4 === 1 ? 8 : 10,
          ...(i < 4 ? { comment: i % 2 ? 'The size guide helped me choose' : 'Delivery was late' } : {}),
        },
      ],
    });
  }
  await api('POST', '/feedback', {
    source: 'employee',
    author: 'Store staff, Shibuya',
    profile_id: first.id,
    text: 'Asked for gift wrapping in the app',
    sentiment: 'good',
    topics: ['gift'],
  });
  return {
    server,
    dir,
    adminKey,
    writeKey,
    workspace,
    journeyId: journey.id,
    surveyId: survey.id,
    customer: {
      id: first.id,
      email: first.traits.email ?? '',
      userId: first.userId,
      firstName: first.traits.firstName ?? '',
    },
    api,
  };
}
