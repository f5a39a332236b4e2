/**
 * The benches' write client, the same for this project and for etcd: one
 * undici Agent with keep-alive connections (one per concurrent writer), JSON
 * bodies, no retries. Lighter than fetch(), so the client is not what limits
 * either system on a 2-core machine.
 */
import { Agent, request } from 'undici';
import { ClusterAuth } from '@/infra/cluster/cluster-auth';
import { TEST_CLUSTER_SECRET } from '../../test/support/cluster';

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const auth = new ClusterAuth(TEST_CLUSTER_SECRET, 'bench-client');

export async function postJson(
  baseUrl: string,
  path: string,
  payload: unknown,
  opts: { sign?: boolean; timeoutMs?: number } = {},
): Promise<{ status: number; text: string }> {
  const body = Buffer.from(JSON.stringify(payload));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.sign) Object.assign(headers, auth.sign('POST', path, body));
  const timeout = opts.timeoutMs ?? 10_000;
  const res = await request(`${baseUrl}${path}`, {
    method: 'POST',
    body,
    headers,
    dispatcher: agent,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** CPU ms this (client) process has used so far. */
export function clientCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
