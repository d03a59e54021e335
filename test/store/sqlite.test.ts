import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './contract.js';
import { journeyContract } from './journey-contract.js';
import { deliveryContract } from './delivery-contract.js';
import { contactContract } from './contact-contract.js';
import { couponContract } from './coupon-contract.js';
import { preferenceContract } from './preference-contract.js';
import { catalogContract } from './catalog-contract.js';
import { inAppContract } from './inapp-contract.js';
import { surveyContract } from './survey-contract.js';
import { accessContract } from './access-contract.js';
import Database from 'better-sqlite3';

const root = mkdtempSync(join(tmpdir(), 'kizuna-sqlite-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A file database (not :memory:) so several stores share it as separate processes would.
storeContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

journeyContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

deliveryContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
contactContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
couponContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
preferenceContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
catalogContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});
inAppContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

surveyContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
  };
});

accessContract('sqlite', () => {
  const path = join(root, `t${++n}.db`);
  return {
    open: (clock) => Promise.resolve(SqliteStore.open({ path, clock })),
    reset: () => Promise.resolve(),
    raw: (sql) => {
      const db = new Database(path);
      try {
        db.exec(sql);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        db.close();
      }
    },
  };
});
