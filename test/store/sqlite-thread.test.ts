import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './contract.js';
import { journeyContract } from './journey-contract.js';
import { deliveryContract } from './delivery-contract.js';
import { contactContract } from './contact-contract.js';
import { couponContract } from './coupon-contract.js';
import { preferenceContract } from './preference-contract.js';
import { catalogContract } from './catalog-contract.js';
import { inAppContract } from './inapp-contract.js';

// The writer thread runs compiled JavaScript (a worker cannot load the TypeScript sources), so this
// suite runs the contract against the build in dist/, which `npm test` refreshes first (pretest).
const built = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;
const { SqliteStore: BuiltStore } = (await import(built)) as { SqliteStore: typeof SqliteStore };

const root = mkdtempSync(join(tmpdir(), 'kizuna-sqlite-thread-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

storeContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});

journeyContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});

deliveryContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
contactContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
couponContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
preferenceContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
catalogContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
inAppContract('sqlite (writer thread)', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(BuiltStore.open({ path, clock, writer: 'thread' })),
    reset: () => Promise.resolve(),
  };
});
