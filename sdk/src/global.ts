/**
 * The script-tag bundle: makes `window.kizuna` and replays the calls the paste-in snippet queued
 * (`window.kizuna.q`, a list of [method, arguments]) before this file arrived. See docs/sdk.md.
 */
import { createKizuna, invoke, type Kizuna } from './client.js';

interface Stub {
  q?: unknown[];
  loaded?: boolean;
}

declare global {
  interface Window {
    kizuna?: Kizuna | Stub;
  }
}

(() => {
  const stub: Stub | undefined = window.kizuna;
  if (stub?.loaded) return; // the bundle was included twice
  const k = createKizuna();
  window.kizuna = k;
  const q = Array.isArray(stub?.q) ? stub.q : [];
  for (const c of q) if (Array.isArray(c)) invoke(k, c[0], c[1]);
})();
