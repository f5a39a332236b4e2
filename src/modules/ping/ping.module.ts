/**
 * The ping engine: KindChecker (http through the DNS cache + SSRF guard + undici; tcp,
 * tls and dns through the same guard), the round
 * scheduler, the default health-log sink and GET /api/status. Needs AppConfig and
 * EventBus from global modules; checks nothing until a SiteSource is bound (forRoot).
 */
import { DynamicModule, Module, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { DnsCache } from '@/modules/dns/dns-cache';
import { DnsModule } from '@/modules/dns/dns.module';
import { DnsQuery } from '@/modules/dns/dns-query';
import { BeatLedger } from '@/modules/push/beat-ledger';
import { CertificateLedger, CertificatesModule } from './certificate-ledger';
import { Checker } from './check-result';
import { CheckResultSink } from './check-result-sink';
import { HealthLogSink } from './health-log.sink';
import { KindChecker } from './kind-checker';
import { PingMetrics } from './ping-metrics';
import { PingScheduler } from './ping-scheduler';
import { NoSites, SiteSource } from './site-source';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

export interface PingModuleOptions {
  /** modules exporting the classes named below */
  imports?: ModuleMetadata['imports'];
  /** the site list (websites module: PostgreSQL); default: none */
  siteSource?: Type<SiteSource>;
  /** where results go (gossip module: signed votes + health logs); default: HealthLogSink */
  resultSink?: Type<CheckResultSink>;
}

const providers: Provider[] = [
  {
    provide: PingMetrics,
    useFactory: (dns: DnsCache) => {
      const m = new PingMetrics();
      m.watchDns(dns);
      return m;
    },
    inject: [DnsCache],
  },
  {
    provide: Checker,
    // push sites read the replicated beats (PushModule, when the app has it)
    useFactory: (dns: DnsCache, config: AppConfig, beats?: BeatLedger) =>
      new KindChecker(
        dns,
        new DnsQuery(),
        {
          allowPrivateTargets: config.ping.allowPrivateTargets,
          userAgent: `uptime-validator/1 (validator ${config.node.id}; ${config.node.region})`,
        },
        beats,
      ),
    inject: [DnsCache, AppConfig, { token: BeatLedger, optional: true }],
  },
  { provide: SiteSource, useClass: NoSites },
  HealthLogSink,
  { provide: CheckResultSink, useExisting: HealthLogSink },
  {
    provide: PingScheduler,
    useFactory: (
      source: SiteSource,
      checker: Checker,
      sink: CheckResultSink,
      metrics: PingMetrics,
      config: AppConfig,
      certificates: CertificateLedger,
    ) =>
      new PingScheduler(source, checker, sink, metrics, {
        concurrency: config.ping.concurrency,
        suspectShare: 0.5,
        maxLateMs: 10_000,
        refreshMs: Math.min(config.ping.intervalMs, 10_000),
        certificates,
        // Checks yield to everything else on the loop once it runs so late that Raft's
        // election timeout is at stake (a round trip of votes must fit in it). Not sooner: on
        // a machine shared with other work the loop is often tens of ms late for reasons no
        // check causes, and holding checks back then only delays verdicts.
        maxLoopLagMs: maxLoopLagMs(config.raft.electionTimeoutMs),
      }),
    inject: [SiteSource, Checker, CheckResultSink, PingMetrics, AppConfig, CertificateLedger],
  },
  StatusService,
];

/** checks start only while the event loop runs at most this late (see PingScheduler) */
export function maxLoopLagMs(electionTimeoutMs: number): number {
  return Math.max(100, Math.round(electionTimeoutMs / 2));
}

@Module({
  imports: [DnsModule, CertificatesModule],
  controllers: [StatusController],
  providers,
  exports: [Checker, PingMetrics, PingScheduler],
})
export class PingModule {
  /** Same module with the site list and/or the result sink bound to other modules' classes. */
  static forRoot(options: PingModuleOptions): DynamicModule {
    const overrides: Provider[] = [];
    if (options.siteSource) {
      overrides.push({ provide: SiteSource, useExisting: options.siteSource });
    }
    if (options.resultSink) {
      overrides.push({ provide: CheckResultSink, useExisting: options.resultSink });
    }
    return { module: PingModule, imports: options.imports ?? [], providers: overrides };
  }
}
