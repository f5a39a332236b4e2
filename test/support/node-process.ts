import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../src/config/node-flags';

export const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface NodeProcess {
  proc: ChildProcess;
  port: number;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitReady(timeoutMs?: number): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the built node (dist/main.js) as a real process with the given env. */
export async function startNode(env: Record<string, string>): Promise<NodeProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = spawn(process.execPath, [...NODE_FLAGS, MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'info',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  let dead = false;
  void exited.then(() => (dead = true));

  return {
    proc,
    port,
    baseUrl,
    output: () => out,
    exited,
    async waitReady(timeoutMs = 30_000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if (dead) throw new Error(`node exited before ready:\n${out}`);
        try {
          const res = await fetch(`${baseUrl}/health/ready`);
          if (res.status === 200) return Date.now() - t0;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`not ready within ${timeoutMs} ms:\n${out}`);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!dead) proc.kill(signal);
      const { code } = await exited;
      return code;
    },
  };
}

/** Runs the node with env and waits for it to exit (for config errors). */
export async function runToExit(env: Record<string, string>, timeoutMs = 20_000) {
  const node = await startNode(env);
  const timer = setTimeout(() => node.proc.kill('SIGKILL'), timeoutMs);
  const { code } = await node.exited;
  clearTimeout(timer);
  return { code, output: node.output() };
}
