// Copies non-TypeScript assets (SQL migrations) from src/ to dist/ after `tsc`.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (entry.endsWith('.sql')) cpSync(path, path.replace(/^src/, 'dist'));
  }
}
walk('src');
