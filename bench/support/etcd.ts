/**
 * A 3-member etcd cluster on 127.0.0.1 for side-by-side benches: default
 * settings (fsync on), written through its HTTP/JSON gateway (/v3/kv/put)
 * over keep-alive connections, like our nodes are. Installs the Debian
 * package `etcd-server` when `etcd` is not on PATH (BENCH_ETCD_INSTALL=0: don't).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/node-process';
import { postJson } from './http-client';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  proc: ChildProcess;
  dataDir: string;
  args: string[];
  exited: Promise<void>;
  output(): string;
}

export function etcdVersion(): string | null {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return /etcd Version: (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

/** etcd on PATH, installing `etcd-server` through apt when missing and allowed. */
export function ensureEtcd(): string | null {
  const have = etcdVersion();
  if (have || process.env.BENCH_ETCD_INSTALL === '0') return have;
  process.stdout.write('etcd not on PATH: apt-get install -y etcd-server\n');
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'etcd-server'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (e) {
    process.stdout.write(`could not install etcd-server: ${(e as Error).message}\n`);
    return null;
  }
  return etcdVersion();
}

function launch(m: Omit<EtcdMember, 'proc' | 'exited' | 'output'>): EtcdMember {
  const proc = spawn('etcd', m.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  proc.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return { ...m, proc, exited, output: () => out };
}

export async function startEtcdCluster(root: string): Promise<EtcdMember[]> {
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const names = ['e1', 'e2', 'e3'];
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[3 + i]}`;
  const initial = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
  const token = `bench-${process.pid}-${Date.now()}`;
  const members = names.map((name, i) => {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    const clientUrl = `http://127.0.0.1:${ports[i]}`;
    const args = [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl(i)}`,
      `--initial-advertise-peer-urls=${peerUrl(i)}`,
      `--initial-cluster=${initial}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${token}`,
      '--log-level=error',
    ];
    return launch({ name, clientUrl, dataDir, args });
  });
  await Promise.all(members.map((m) => waitEtcdReady(m)));
  return members;
}

/** Starts a stopped member again on its data directory. */
export async function restartEtcd(m: EtcdMember): Promise<EtcdMember> {
  const again = launch({ name: m.name, clientUrl: m.clientUrl, dataDir: m.dataDir, args: m.args });
  await waitEtcdReady(again);
  return again;
}

async function waitEtcdReady(m: EtcdMember, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      if (r.status === 200 && ((await r.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd ${m.name} not healthy within ${timeoutMs} ms:\n${m.output()}`);
}

export async function etcdIsLeader(m: EtcdMember): Promise<boolean> {
  try {
    const r = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(1_000),
    });
    const s = (await r.json()) as { header?: { member_id?: string }; leader?: string };
    return s.leader !== undefined && s.leader === s.header?.member_id;
  } catch {
    return false;
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** One put through the gateway; true when etcd acknowledged it. */
export async function etcdPut(
  m: EtcdMember,
  key: string,
  value: string,
  timeoutMs = 5_000,
): Promise<boolean> {
  const r = await postJson(
    m.clientUrl,
    '/v3/kv/put',
    { key: b64(key), value: b64(value) },
    { timeoutMs },
  );
  return r.status === 200 && !r.text.includes('"error"');
}

/** Every key under `prefix` this member holds locally (serializable read: no quorum). */
export async function etcdLocalKeys(m: EtcdMember, prefix: string): Promise<Set<string>> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const r = await fetch(`${m.clientUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({
      key: b64(prefix),
      range_end: b64(end),
      keys_only: true,
      serializable: true,
    }),
  });
  const body = (await r.json()) as { kvs?: { key: string }[] };
  return new Set((body.kvs ?? []).map((kv) => Buffer.from(kv.key, 'base64').toString()));
}

export async function stopEtcd(members: EtcdMember[]): Promise<void> {
  await Promise.all(
    members.map(async (m) => {
      if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGTERM');
      await m.exited;
    }),
  );
}
