/**
 * The ES module: `import { kizuna } from 'https://kizuna.example.com/sdk/kizuna.mjs'`, then
 * `kizuna.init({ writeKey, host })`. `createKizuna()` makes a separate instance (another workspace).
 */
import { createKizuna } from './client.js';

export { createKizuna };
export type {
  Card,
  ConsentChoices,
  InAppMessage,
  InitOptions,
  Kizuna,
  PushOptions,
  PushResult,
  Traits,
} from './client.js';

export const kizuna = createKizuna();
export default kizuna;
