/**
 * TEST-ONLY fault injection for the consensus acceptance tests: per-validator
 * reachability. Active only when NODE_ENV=test AND TEST_UNREACHABLE_HOSTS is set
 * (comma-separated `host` or `host:port`, as in URL.host / URL.hostname); then
 * every check of a matching URL is voted as a CONNECT failure by this validator,
 * as if the target were unreachable from its region. In any other environment
 * `testUnreachableHosts` returns null and nothing changes.
 */
import type { CheckResult } from '@/modules/ping/check-result';

export function testUnreachableHosts(env: NodeJS.ProcessEnv = process.env): Set<string> | null {
  if (env.NODE_ENV !== 'test' || !env.TEST_UNREACHABLE_HOSTS) return null;
  const hosts = env.TEST_UNREACHABLE_HOSTS.split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
  return hosts.length > 0 ? new Set(hosts) : null;
}

/** The result this validator reports for `url` under the hook (unchanged when not matched). */
export function applyTestReachability(
  hosts: Set<string>,
  url: string,
  result: CheckResult,
): CheckResult {
  let host: string;
  let hostname: string;
  try {
    const u = new URL(url);
    host = u.host.toLowerCase();
    hostname = u.hostname.toLowerCase();
  } catch {
    return result;
  }
  if (!hosts.has(host) && !hosts.has(hostname)) return result;
  return {
    up: false,
    latencyMs: result.latencyMs,
    failure: 'CONNECT',
    error: 'TEST_UNREACHABLE_HOSTS: unreachable from this validator (test hook)',
    phases: { total: result.phases.total },
    checkedAt: result.checkedAt,
  };
}
