// Embedded PostgreSQL for single-node runs: PGlite persisted under <dataDir>/pglite, served over the
// wire protocol on a Unix socket so Prisma and the migrator use the same `pg` code path as a real
// server. The socket lives in a 0700 directory of this process's user: PGlite has no passwords, so
// a TCP port (even on 127.0.0.1) would hand the database to every local user and every process that
// can be tricked into connecting. stop() closes the socket server, then the database, so everything
// committed survives a restart.
import { chmod, mkdir, mkdtemp, open, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * How many client connections the embedded database can serve safely: ONE.
 *
 * pglite-socket 0.2.17 accepts `maxConnections` sockets (default 1), but every
 * socket feeds the same single PGlite backend. Its queue serialises individual
 * protocol messages, not whole queries, and keeps other sockets out only while
 * the backend is inside an explicit transaction. So with two sockets:
 *  - one client's Parse/Bind/Execute can interleave with another's when a large
 *    message arrives in several TCP chunks; we reproduced a query returning
 *    another connection's statement bound to its own parameters;
 *  - session state (SET, prepared statements, advisory locks) is shared.
 * We therefore keep the server at one connection (a second one is dropped,
 * which `pg` reports as "Connection terminated unexpectedly", ECONNRESET or EPIPE) and every client
 * must respect it: the Prisma pool has max 1 with idle reaping off (a reap racing
 * a reconnect would hit the limit), and the migrator closes its connection
 * before Prisma opens its own.
 */
export const EMBEDDED_MAX_CONNECTIONS = 1;

const STOP_TIMEOUT_MS = 15_000;

export interface EmbeddedPostgres {
  /** postgresql://postgres@localhost/postgres?host=<socket directory> (a Unix socket, no TCP) */
  readonly url: string;
  /** the directory holding the socket file `.s.PGSQL.5432` (mode 0700) */
  readonly socketDir: string;
  /** the PGlite data directory, <dataDir>/pglite */
  readonly pgdataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** the node's DATA_DIR; the database lives in its `pglite` subdirectory */
  dataDir: string;
  /** called if the database thread dies while it should be serving */
  onCrash?: (error: Error) => void;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

/*
 * PGlite runs in a worker thread. Its WebAssembly executes each query
 * synchronously, which on the main thread would stall HTTP, pings and Raft
 * heartbeats for as long as the query runs. A worker is also a plain Node
 * context, where PGlite's CJS build may use dynamic import() (it does, for
 * node:fs and node:module), which Jest's module sandbox rejects.
 * Plain JS in a string: it must not pass through ts-jest or coverage tooling.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
const { PGLiteSocketServer } = require(workerData.socketPath);
let db, server;
const describe = (e) => ({ message: String((e && e.message) || e), stack: e && e.stack });
async function start() {
  db = await PGlite.create(workerData.pgdataDir);
  server = new PGLiteSocketServer({
    db, path: workerData.socketFile, maxConnections: workerData.maxConnections,
  });
  await server.start();
}
async function stop() {
  try { if (server) await server.stop(); }
  finally { if (db && !db.closed) await db.close(); }
}
function finish(message) { parentPort.postMessage(message); parentPort.close(); }
parentPort.on('message', (msg) => {
  if (msg !== 'stop') return;
  stop().then(() => finish({ type: 'stopped' }), (e) => finish({ type: 'stopped', error: describe(e) }));
});
start().then(
  () => parentPort.postMessage({ type: 'ready' }),
  (e) => stop().catch(() => {}).then(() => finish({ type: 'failed', error: describe(e) })),
);
`;

type WorkerMessage =
  { type: 'ready' } | { type: 'failed' | 'stopped'; error?: { message: string; stack?: string } };

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const root = path.resolve(options.dataDir);
  const pgdataDir = path.join(root, 'pglite');
  await mkdir(pgdataDir, { recursive: true });
  const releaseLock = await lockDataDir(path.join(root, 'pglite.lock'));
  let socketDir: string | null = null;
  try {
    socketDir = await privateSocketDir(root);
    const socketFile = path.join(socketDir, SOCKET_NAME);
    await unlink(socketFile).catch(() => undefined); // a crash leaves the old socket file behind
    const { worker } = await startWorker(pgdataDir, socketFile);
    let stopping = false;
    worker.on('exit', (code) => {
      if (!stopping) options.onCrash?.(new EmbeddedPostgresError(`PGlite thread exited (${code})`));
    });
    const dir = socketDir;
    const stop = async () => {
      stopping = true;
      await stopWorker(worker)
        .finally(() => removeSocketDir(root, dir))
        .finally(releaseLock);
    };
    const url = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(dir)}`;
    return { url, socketDir: dir, pgdataDir, stop: once(stop) };
  } catch (e) {
    if (socketDir) await removeSocketDir(root, socketDir);
    await releaseLock();
    throw new EmbeddedPostgresError(`cannot start embedded PostgreSQL in ${pgdataDir}`, {
      cause: e,
    });
  }
}

/** libpq's socket file name for port 5432, which is what `pg` dials in `host=<dir>`. */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux; keep a margin */
const MAX_SOCKET_PATH = 100;

/**
 * <dataDir>/run, or a fresh directory under the system temp dir when that path would be too long
 * for a Unix socket. Either way mode 0700: only this user can reach the socket.
 */
async function privateSocketDir(root: string): Promise<string> {
  const inData = path.join(root, 'run');
  if (path.join(inData, SOCKET_NAME).length <= MAX_SOCKET_PATH) {
    await mkdir(inData, { recursive: true, mode: 0o700 });
    await chmod(inData, 0o700);
    return inData;
  }
  return mkdtemp(path.join(tmpdir(), 'uptime-pg-')); // mkdtemp creates it 0700
}

async function removeSocketDir(root: string, dir: string): Promise<void> {
  if (dir === path.join(root, 'run')) await unlink(path.join(dir, SOCKET_NAME)).catch(() => {});
  else await rm(dir, { recursive: true, force: true }).catch(() => {});
}

function startWorker(pgdataDir: string, socketFile: string): Promise<{ worker: Worker }> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      pgdataDir,
      socketFile,
      maxConnections: EMBEDDED_MAX_CONNECTIONS,
      pglitePath: require.resolve('@electric-sql/pglite'),
      socketPath: require.resolve('@electric-sql/pglite-socket'),
    },
  });
  // An 'error' event without a listener would take the whole process down.
  worker.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'ready') settle(() => resolve({ worker }));
      if (m.type === 'failed') settle(() => reject(workerError(m.error)));
    };
    const onError = (e: Error) => settle(() => reject(e));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`PGlite thread exited (${code}) before it was ready`)));
    const settle = (fn: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      fn();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/** Resolves once the worker has closed the server and the database and exited. */
async function stopWorker(worker: Worker): Promise<void> {
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'stopped' && m.error) failure = workerError(m.error);
    });
    worker.once('exit', () => resolve());
  });
  worker.postMessage('stop');
  const timer = setTimeout(() => {
    failure = new EmbeddedPostgresError(`PGlite did not close within ${STOP_TIMEOUT_MS} ms`);
    void worker.terminate();
  }, STOP_TIMEOUT_MS);
  await exited.finally(() => clearTimeout(timer));
  if (failure) throw failure;
}

function workerError(e: { message: string; stack?: string } | undefined): Error {
  const err = new EmbeddedPostgresError(e?.message ?? 'unknown error in the PGlite thread');
  if (e?.stack) err.stack = e.stack;
  return err;
}

/**
 * PGlite itself does not stop two processes from opening one data directory,
 * which would corrupt it. A pid file does; a lock left by a crashed (kill -9)
 * process is taken over, since that pid no longer runs.
 */
async function lockDataDir(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return once(() => unlink(lockFile).catch(() => undefined));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (isRunning(holder)) {
        throw new EmbeddedPostgresError(
          `${lockFile}: the embedded database is already open in process ${holder}; ` +
            `give each node its own DATA_DIR (delete the file if that process is not a node)`,
        );
      }
      await unlink(lockFile).catch(() => undefined);
    }
  }
  throw new EmbeddedPostgresError(`${lockFile}: could not take the data directory lock`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
