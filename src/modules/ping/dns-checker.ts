/**
 * dns:// checks: the answer of one record type compared with the expected values. A
 * chosen resolver must be an IP the SSRF guard allows (it is the address dialled); the
 * names and addresses in the answer are only compared, never connected to.
 */
import { isIP } from 'node:net';
import { assertAllowedAddress, BlockedTargetError } from '@/common/net/ssrf-guard';
import { DnsQuery, normalName } from '@/modules/dns/dns-query';
import { fail, Outcome, resultOf, underDeadline } from './check-deadline';
import type { CheckResult, CheckTarget } from './check-result';
import { dnsNameOf, parseResolver, type DnsCheckSpec } from './check-spec';

const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

export class DnsChecker {
  constructor(
    private readonly query: DnsQuery,
    private readonly allowPrivate: boolean,
  ) {}

  async check(target: CheckTarget, spec: DnsCheckSpec, cancel?: AbortSignal): Promise<CheckResult> {
    const t = await underDeadline(target.timeoutMs, cancel, (signal) =>
      this.run(target.url, spec, signal),
    );
    return resultOf(t);
  }

  private async run(url: string, spec: DnsCheckSpec, signal: AbortSignal): Promise<Outcome> {
    const name = dnsNameOf(url);
    if (!name) return fail('BLOCKED', `not a dns://name target: ${url}`);
    const server = spec.resolver === null ? undefined : parseResolver(spec.resolver);
    if (spec.resolver !== null) {
      if (!server) return fail('BLOCKED', `resolver ${spec.resolver} is not an IP address`);
      try {
        assertAllowedAddress(server.address, this.allowPrivate);
      } catch (e) {
        return fail('BLOCKED', `resolver ${(e as BlockedTargetError).message}`);
      }
    }
    let answer: string[];
    try {
      answer = await abandonOnAbort(this.query.ask(name, spec.recordType, server), signal);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (NO_ANSWER.has(code)) return fail('DNS', `no ${spec.recordType} record for ${name}`);
      return fail('DNS', `${spec.recordType} ${name}: ${code || (e as Error).message}`);
    }
    return compare(name, spec, answer);
  }
}

/** Expected values against the answer, after the same normalisation on both sides. */
export function compare(name: string, spec: DnsCheckSpec, answer: string[]): Outcome {
  if (answer.length === 0) return fail('DNS', `no ${spec.recordType} record for ${name}`);
  if (spec.expected.length === 0) return { ok: true };
  const norm = (v: string) =>
    spec.recordType === 'TXT' ? v : isIP(v) ? v.toLowerCase() : normalName(v);
  const got = new Set(answer.map(norm));
  const want = new Set(spec.expected.map(norm));
  const present = [...want].filter((v) => got.has(v));
  const ok =
    spec.match === 'any'
      ? present.length > 0
      : spec.match === 'all'
        ? present.length === want.size
        : present.length === want.size && got.size === want.size;
  if (ok) return { ok: true };
  const shown = [...got].sort().slice(0, 8).join(', ');
  return fail(
    'DNS',
    `${spec.recordType} ${name} answered [${shown}], expected ${spec.match} of [${[...want].join(', ')}]`,
  );
}

/** c-ares queries are shared per resolver, so one is not cancelled: the check stops waiting. */
function abandonOnAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
