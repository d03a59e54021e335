import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Real headless Chromium (Debian's package) for the browser suites, driven by playwright-core. Without
 * it a suite is skipped with a printed reason, unless KIZUNA_REQUIRE_CHROMIUM=1 (CI), where that is a
 * failure.
 */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** null when Chromium is there; otherwise why not. Throws when Chromium is required. */
export function chromiumUnavailable(suite: string): string | null {
  if (existsSync(CHROMIUM)) return null;
  const where = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (process.env['KIZUNA_REQUIRE_CHROMIUM'] === '1')
    throw new Error(`KIZUNA_REQUIRE_CHROMIUM=1 but ${where}`);
  console.warn(`Skipping ${suite}: ${where}. Set KIZUNA_REQUIRE_CHROMIUM=1 to make this a failure.`);
  return where;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
}

/**
 * What the callbacks given to `page.evaluate` reach in the page, typed here because the root
 * tsconfig (Node) has no DOM lib: `(globalThis as unknown as PageGlobals).kizuna.track(...)`.
 */
export interface PageGlobals {
  kizuna: {
    loaded?: boolean;
    anonymousId(): string;
    track(event: unknown, properties?: unknown): void;
    identify(userId: unknown, traits?: unknown): void;
    page(...args: unknown[]): void;
    alias(...args: unknown[]): void;
    /** void for true/false; a promise of whether the ledger stored the choices for an object */
    consent(choice: unknown): unknown;
    cards: { render(element: unknown): Promise<number>; list(): Promise<unknown[]> };
  };
  localStorage: { getItem(key: string): string | null };
  document: { cookie: string; getElementById(id: string): unknown };
  pwned?: number;
  getComputedStyle(e: unknown): { color: string };
}
