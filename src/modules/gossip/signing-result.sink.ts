/**
 * The CheckResultSink the gossip module binds (PingModule.forRoot({ resultSink })):
 * each check result becomes a vote of this validator, handed to gossip (which
 * signs the tick's votes as one batch and hands them to the local tally), and still goes to the health-logs
 * topic through the ping module's HealthLogSink. Never throws into the scheduler.
 */
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MAX_LATENCY_MS, SITE_ID_PATTERN, type VoteFailure } from '@/core/consensus/vote';
import type { FailureClass } from '@/generated/prisma/enums';
import { CheckResultSink } from '@/modules/ping/check-result-sink';
import type { CheckResult } from '@/modules/ping/check-result';
import { HealthLogSink } from '@/modules/ping/health-log.sink';
import type { SiteSpec } from '@/modules/ping/site-source';
import { PingResultEmitter } from '@/modules/realtime/ping-result.emitter';
import { GossipService } from './gossip.service';
import { applyTestReachability, testUnreachableHosts } from './test-reachability';

// The vote vocabulary must cover every failure class a check can report.
const _failuresCovered: FailureClass extends VoteFailure ? true : never = true;
void _failuresCovered;

@Injectable()
export class SigningResultSink extends CheckResultSink implements OnModuleInit {
  private readonly log = new Logger(SigningResultSink.name);
  private healthLog?: CheckResultSink;
  private lastErrorLogAt = 0;
  /** results not turned into votes (bad site id, signing error) */
  unsigned = 0;
  /** test-only fault injection; null unless NODE_ENV=test and TEST_UNREACHABLE_HOSTS is set */
  private readonly unreachable = testUnreachableHosts();

  constructor(
    private readonly gossip: GossipService,
    private readonly moduleRef: ModuleRef,
    private readonly pingResults: PingResultEmitter,
  ) {
    super();
  }

  /**
   * HealthLogSink lives in PingModule, which imports this module to bind the
   * sink; it is looked up once every provider exists, so neither module has to
   * import the other (no forwardRef).
   */
  onModuleInit(): void {
    if (this.healthLog) return;
    try {
      this.healthLog = this.moduleRef.get(HealthLogSink, { strict: false });
    } catch {
      this.log.warn('no HealthLogSink in this application: check results are voted, not logged');
    }
  }

  /** Tests: send health logs elsewhere. */
  delegateTo(sink: CheckResultSink): void {
    this.healthLog = sink;
  }

  override onResult(site: SiteSpec, round: number, checked: CheckResult): void {
    // Every validator checks every site: its own check is how it learns where results go.
    this.pingResults.learnSite(site.id, site.url, site.ownerId);
    const result = this.unreachable
      ? applyTestReachability(this.unreachable, site.url, checked)
      : checked;
    try {
      this.vote(site, round, result);
    } catch (e) {
      this.unsigned++;
      this.warn(`cannot sign a vote for ${site.id} round ${round}: ${(e as Error).message}`);
    }
    this.healthLog?.onResult(site, round, result);
  }

  override async flush(): Promise<void> {
    this.gossip.signOwn();
    await this.healthLog?.flush?.();
  }

  private vote(site: SiteSpec, round: number, r: CheckResult): void {
    if (!SITE_ID_PATTERN.test(site.id)) {
      this.unsigned++;
      this.warn(`site id ${JSON.stringify(site.id.slice(0, 40))} cannot be voted on`);
      return;
    }
    const status = r.httpStatus;
    this.gossip.publishOwn({
      siteId: site.id,
      round,
      up: r.up,
      latencyMs: Math.min(MAX_LATENCY_MS, Math.max(0, Math.round(r.latencyMs))),
      ...(status !== undefined && Number.isInteger(status) && status >= 100 && status <= 599
        ? { httpStatus: status }
        : {}),
      ...(r.failure ? { failure: r.failure } : {}),
      checkedAt: Math.max(0, Math.floor(r.checkedAt)),
    });
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log.warn(message);
  }
}
