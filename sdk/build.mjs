// Builds the browser SDK into dist/sdk/ (served by the Kizuna server under /sdk/) and prints each
// file's raw and gzipped size. Fails when a bundle passes the 20 KB gzipped budget (docs/sdk.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'sdk');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const BUDGET_GZIP = 20 * 1024;

const common = {
  bundle: true,
  minify: true,
  target: 'es2019',
  platform: 'browser',
  legalComments: 'none',
  banner: { js: `/*! kizuna.js ${version} | Apache-2.0 */` },
  logLevel: 'warning',
};

const outputs = [
  { entry: 'global.ts', file: 'kizuna.js', format: 'iife', budget: true },
  { entry: 'index.ts', file: 'kizuna.mjs', format: 'esm', budget: true },
  { entry: 'sw.ts', file: 'kizuna-sw.js', format: 'iife', budget: false },
];

mkdirSync(out, { recursive: true });
let over = false;
for (const o of outputs) {
  const result = await build({
    ...common,
    entryPoints: [join(root, 'sdk', 'src', o.entry)],
    format: o.format,
    write: false,
  });
  const code = result.outputFiles[0].contents;
  writeFileSync(join(out, o.file), code);
  const gz = gzipSync(code, { level: 9 }).length;
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `sdk: dist/sdk/${o.file.padEnd(13)} ${kb(code.length).padStart(8)} raw ${kb(gz).padStart(8)} gzipped`,
  );
  if (o.budget && gz > BUDGET_GZIP) {
    console.error(`sdk: ${o.file} is over the ${kb(BUDGET_GZIP)} gzipped budget`);
    over = true;
  }
}
if (over) process.exit(1);
