import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DomainError } from '@/common/domain-error';

/**
 * scrypt (memory-hard): N=2^15, r=8, p=1, i.e. 32 MiB per hash. It runs on a
 * dedicated worker thread, not on libuv's thread pool: that pool also runs the Raft
 * log's fsync and file writes, and a sign-up or login flood queued there would
 * delay persistence. The queue in front of the worker is bounded; when it is full
 * the caller gets RATE_LIMITED at once instead of waiting without bound.
 * Parameters are stored with each hash, so they can be raised later.
 */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAXMEM = 128 * N * R * 2;
/** hashes waiting for the worker; beyond this a request is refused (429) */
export const MAX_QUEUED_HASHES = 32;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (m) => {
  try {
    const key = scryptSync(m.password, Buffer.from(m.salt), m.keylen, { N: m.N, r: m.r, p: m.p, maxmem: m.maxmem });
    parentPort.postMessage({ id: m.id, key });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

interface Job {
  id: number;
  password: string;
  salt: Buffer;
  keylen: number;
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

class ScryptWorker {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (k: Buffer) => void; reject: (e: Error) => void }
  >();

  get depth(): number {
    return this.pending.size;
  }

  derive(job: Omit<Job, 'id'>): Promise<Buffer> {
    if (this.pending.size >= MAX_QUEUED_HASHES) {
      return Promise.reject(
        new DomainError('RATE_LIMITED', 'too many password checks in progress', undefined, 1),
      );
    }
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ensure().postMessage({ ...job, id });
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref(); // never what keeps a process alive
    w.on('message', (m: { id: number; key?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.key) p.resolve(Buffer.from(m.key));
      else p.reject(new Error(m.error ?? 'scrypt failed'));
    });
    const fail = (e: Error) => {
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`scrypt worker exited (${code})`)));
    this.worker = w;
    return w;
  }
}

const worker = new ScryptWorker();

/** Hashes waiting for or being computed by the worker (for tests and metrics). */
export function hashQueueDepth(): number {
  return worker.depth;
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, keylen: number) {
  return worker.derive({
    password: password.normalize('NFKC'),
    salt,
    keylen,
    N: n,
    r,
    p,
    maxmem: 128 * n * r * 2,
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P, KEYLEN);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const expected = Buffer.from(parts[5], 'base64');
  if (![n, r, p].every(Number.isSafeInteger) || expected.length === 0) return false;
  if (128 * n * r * 2 > MAXMEM * 4) return false; // a stored hash we would never have written
  const key = await derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;
/** A real hash of a random password: verifying against it costs what a real check costs. */
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword(randomBytes(16).toString('hex')));
}
