import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built `kizuna` command (npm test builds it first; see the `pretest` script). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function kizuna(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Running {
  child: ChildProcess;
  url: string;
  /** JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `kizuna start --port 0` and resolves once it logs that it is listening. */
export function startKizuna(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, DATABASE_URL: '', ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry['msg'] === 'kizuna is listening') {
        resolve({ child, url: entry['address'] as string, logs, stderr: () => stderr, exited });
      }
    });
    void exited.then((code) => reject(new Error(`kizuna exited with ${code}: ${stderr}`)));
  });
}
