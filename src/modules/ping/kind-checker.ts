/**
 * The Checker the scheduler calls: it routes a target to the checker of its kind.
 * Every kind returns the same CheckResult, so votes, tally and decisions stay one path:
 * a push site's "check" reads the committed last beat from the replicated ledger, and
 * its vote is tallied like any other.
 */
import { DnsQuery } from '@/modules/dns/dns-query';
import { DnsCache } from '@/modules/dns/dns-cache';
import type { BeatReader } from '@/modules/push/beat-ledger';
import { readPush } from '@/modules/push/push-rule';
import { Checker, CheckResult, CheckTarget } from './check-result';
import { pushSiteIdOf, type PushCheckSpec } from './check-spec';
import { DnsChecker } from './dns-checker';
import { HttpChecker, HttpCheckerOptions } from './http-checker';
import { SocketChecker } from './tcp-checker';

export class KindChecker extends Checker {
  readonly http: HttpChecker;
  private readonly sockets: SocketChecker;
  private readonly dnsChecker: DnsChecker;

  constructor(
    dns: DnsCache,
    query: DnsQuery,
    options: Partial<HttpCheckerOptions> = {},
    /** the replicated last beats (push sites); absent: every push site reads as beat-less */
    private readonly beats?: BeatReader,
    private readonly now: () => number = Date.now,
  ) {
    super();
    const allowPrivate = options.allowPrivateTargets ?? false;
    this.http = new HttpChecker(dns, options);
    this.sockets = SocketChecker.of(dns, allowPrivate, options.ca);
    this.dnsChecker = new DnsChecker(query, allowPrivate);
  }

  override check(target: CheckTarget, signal?: AbortSignal): Promise<CheckResult> {
    const spec = target.check;
    switch (spec?.kind) {
      case undefined:
      case 'http':
        return this.http.check(target, signal);
      case 'tcp':
        return this.sockets.tcp(target, spec, signal);
      case 'tls':
        return this.sockets.tls(target, spec, signal);
      case 'dns':
        return this.dnsChecker.check(target, spec, signal);
      case 'push':
        return Promise.resolve(this.push(target, spec));
    }
  }

  private push(target: CheckTarget, spec: PushCheckSpec): CheckResult {
    const checkedAt = this.now();
    const siteId = pushSiteIdOf(target.url);
    const reading = readPush(siteId ? this.beats?.lastBeat(siteId) : undefined, spec, checkedAt);
    const base = { latencyMs: 0, phases: { total: 0 }, checkedAt };
    if (reading.up) return { ...base, up: true };
    return { ...base, up: false, failure: 'TIMEOUT', error: reading.reason };
  }

  override release(keepAliveKey: string): void {
    this.http.release(keepAliveKey);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }
}
