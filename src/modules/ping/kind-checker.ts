/**
 * The Checker the scheduler calls: it routes a target to the checker of its kind.
 * Every kind returns the same CheckResult, so votes, tally and decisions stay one path.
 */
import { DnsQuery } from '@/modules/dns/dns-query';
import { DnsCache } from '@/modules/dns/dns-cache';
import { Checker, CheckResult, CheckTarget } from './check-result';
import { DnsChecker } from './dns-checker';
import { HttpChecker, HttpCheckerOptions } from './http-checker';
import { SocketChecker } from './tcp-checker';

export class KindChecker extends Checker {
  readonly http: HttpChecker;
  private readonly sockets: SocketChecker;
  private readonly dnsChecker: DnsChecker;

  constructor(dns: DnsCache, query: DnsQuery, options: Partial<HttpCheckerOptions> = {}) {
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
    }
  }

  override release(keepAliveKey: string): void {
    this.http.release(keepAliveKey);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }
}
