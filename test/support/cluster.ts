import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { publicKeyToBase64 } from '@/modules/gossip/ed25519';
import { freePort, NodeProcess, startNode } from './node-process';

export const TEST_CLUSTER_SECRET = 'test-cluster-secret-0123456789';

/** Signed requests to a node's cluster endpoints, as another member would send them. */
export class ClusterCaller {
  constructor(private readonly auth = new ClusterAuth(TEST_CLUSTER_SECRET, 'test-client')) {}

  /**
   * A caller that speaks as validator `from` (its own Ed25519 key from its data dir) to `to`:
   * node-to-node routes are bound to the sending node, so the cluster secret alone is refused.
   */
  static asNode(from: ClusterNodeSpec, to: ClusterNodeSpec): ClusterCaller {
    const keyOf = (s: ClusterNodeSpec) =>
      createPrivateKey(readFileSync(join(s.dataDir, 'keys', 'validator-ed25519.pem')));
    const auth = new ClusterAuth(TEST_CLUSTER_SECRET, from.env.VALIDATOR_ID);
    auth.useIdentity(keyOf(from));
    auth.setPeers([
      { id: to.env.VALIDATOR_ID, publicKey: publicKeyToBase64(createPublicKey(keyOf(to))) },
    ]);
    return new ClusterCaller(auth);
  }

  async post<T = any>(
    baseUrl: string,
    path: string,
    body: unknown,
    timeoutMs = 5_000,
  ): Promise<{ status: number; body: T }> {
    const raw = Buffer.from(JSON.stringify(body));
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.auth.sign('POST', path, raw) },
      body: raw,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async get<T = any>(
    baseUrl: string,
    path: string,
    timeoutMs = 2_000,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${baseUrl}${path}`, {
      headers: { ...this.auth.sign('GET', path, Buffer.alloc(0)) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

export interface ClusterNodeSpec {
  port: number;
  address: string;
  dataDir: string;
  env: Record<string, string>;
}

/** Ports, addresses and env for an N-node cluster on 127.0.0.1. */
export async function planCluster(
  n: number,
  dataDirOf: (i: number) => string,
  extraEnv: Record<string, string> = {},
): Promise<ClusterNodeSpec[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  return ports.map((port, i) => ({
    port,
    address: addresses[i],
    dataDir: dataDirOf(i),
    env: {
      PORT: String(port),
      ADVERTISE_ADDRESS: addresses[i],
      PEERS: addresses.filter((_, j) => j !== i).join(','),
      VALIDATOR_ID: `v${i + 1}`,
      LOCATION: `region-${i + 1}`,
      CLUSTER_SECRET: TEST_CLUSTER_SECRET,
      JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
      DATA_DIR: dataDirOf(i),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  }));
}

export function startSpec(spec: ClusterNodeSpec): Promise<NodeProcess> {
  return startNode(spec.env);
}
