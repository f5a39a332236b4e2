/**
 * Drives RoundSchedule with one real timer: each due round becomes a check, at most
 * `concurrency` at once; rounds that cannot start within the late limit are skipped
 * and counted; the site list is re-read every `refreshMs` (and on push) without restart.
 *
 * Slots are the only resource checks share, and every check frees its slot by its
 * timeout (every checker's hard deadline). What if every slot hangs? A site whose last
 * check timed out or used over half its timeout runs in the "suspect" lane, capped at
 * `suspectShare` of the slots, so healthy sites always keep the rest. A first-time hang
 * still takes a main slot, for one timeout. If suspects outnumber their share
 * (suspectCap × interval / timeout sites), the excess is skipped as missed(queue) and
 * this validator casts no vote for those rounds — size PING_CONCURRENCY for the hangs
 * you expect: slots ≈ checks/s × mean duration, with hangs lasting the full timeout.
 *
 * In-round retries (a site's `retries`, `retryDelayMs`): a failed check is tried again
 * before the vote, but the first attempt, the delays and every retry share the one
 * timeout budget from the check's start, so a slot is still freed by the timeout, the
 * vote still reaches the tally before its deadline, and other checks wait no longer.
 *
 * Overload: with `maxLoopLagMs`, no check starts while the event loop runs later than
 * that (LoopLagMonitor). A node asked for more checks than its CPU can run otherwise
 * queues everything behind them — Raft votes and heartbeats too — until no election
 * completes; held back, the excess rounds are skipped as missed(queue) and the node
 * stays a working member that checks what it can.
 */
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CheckLanes, Lane } from '@/core/schedule/check-lanes';
import { lateLimitMs } from '@/core/schedule/round';
import { DueCheck, RoundSchedule } from '@/core/schedule/round-schedule';
import type { CertificateLedger } from './certificate-ledger';
import { LoopLagMonitor, type LoopLagGauge } from './loop-lag';
import { Checker, CheckResult, CheckTarget } from './check-result';
import { CheckResultSink } from './check-result-sink';
import { PingMetrics } from './ping-metrics';
import { SiteSource, SiteSpec } from './site-source';

export interface PingSchedulerOptions {
  concurrency: number;
  /** fraction of the slots suspect sites may hold, in (0, 1] */
  suspectShare: number;
  /** a round starts at most min(interval/2, maxLateMs) late, or is skipped */
  maxLateMs: number;
  /** how often the site list is re-read */
  refreshMs: number;
  /** where the certificates results report are kept for the sites' status */
  certificates?: CertificateLedger;
  /** start no check while the event loop runs later than this (ms); absent: no limit */
  maxLoopLagMs?: number;
  /** the loop's lateness (default: a LoopLagMonitor the scheduler runs) */
  loopLag?: LoopLagGauge;
}

/** how soon checks held back by a late loop are tried again */
export const OVERLOAD_RETRY_MS = 25;

type Job = DueCheck<SiteSpec>;

// The timer never sleeps longer than this, so a wall clock stepped backwards is
// noticed within a second instead of after the gap.
const MAX_SLEEP_MS = 1_000;
const CLOCK_STEP_BACK_MS = 1_000;
/** a retry with less budget left than this is not worth a connection */
export const MIN_RETRY_BUDGET_MS = 100;
/** a bound for specs from anywhere; the API allows fewer (websites' MAX_RETRIES) */
export const RETRY_CAP = 10;

export class PingScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(PingScheduler.name);
  private schedule: RoundSchedule<SiteSpec>;
  private readonly lanes: CheckLanes<Job>;
  /** id → spec fingerprint, to tell a changed site from an unchanged one */
  private readonly known = new Map<string, { spec: SiteSpec; print: string }>();
  private readonly running = new Map<string, AbortController>();
  private readonly suspects = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly invalid = new Set<string>();
  private wake?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private refreshTimer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private syncAgain = false;
  private unsubscribe?: () => void;
  private lastNow = 0;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private readonly loopLag: LoopLagGauge | null;
  private readonly ownMonitor: LoopLagMonitor | null = null;
  private overloadTimer?: NodeJS.Timeout;
  /** pumps that held checks back because the loop ran late */
  private held = 0;

  constructor(
    private readonly source: SiteSource,
    private readonly checker: Checker,
    private readonly sink: CheckResultSink,
    private readonly metrics: PingMetrics,
    private readonly options: PingSchedulerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.schedule = new RoundSchedule(options.maxLateMs);
    this.lanes = new CheckLanes(options.concurrency, options.suspectShare);
    if (options.maxLoopLagMs === undefined) this.loopLag = null;
    else if (options.loopLag) this.loopLag = options.loopLag;
    else this.loopLag = this.ownMonitor = new LoopLagMonitor();
  }

  /** times checks were held back because the event loop ran later than maxLoopLagMs */
  get heldForLoopLag(): number {
    return this.held;
  }

  onApplicationBootstrap(): void {
    // Boot does not wait for the site list: a slow database delays checks, not the app.
    void this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  get scheduledSites(): number {
    return this.schedule.size;
  }

  get inFlight(): number {
    return this.lanes.inFlight;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.ownMonitor?.start();
    this.lastNow = this.now();
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.refreshTimer.unref();
    this.unsubscribe = this.source.onChange?.(() => void this.refresh());
    await this.refresh();
  }

  /** Stops scheduling, cancels running checks (their results are not published). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.wake);
    clearTimeout(this.overloadTimer);
    this.ownMonitor?.stop();
    clearInterval(this.refreshTimer);
    this.unsubscribe?.();
    this.lanes.drain();
    for (const ac of this.running.values()) ac.abort();
    await Promise.allSettled([...this.pending]);
    await this.sink.flush?.();
  }

  /** Re-reads the site list now; concurrent calls coalesce into one more read. */
  refresh(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        await this.sync();
      } while (this.syncAgain && this.state === 'running');
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async sync(): Promise<void> {
    let list: SiteSpec[];
    try {
      list = await this.source.listActive();
    } catch (e) {
      this.metrics.siteSyncFailed();
      this.log.warn(
        `reading the site list failed, keeping the previous one: ${(e as Error).message}`,
      );
      return;
    }
    if (this.state !== 'running') return;
    const now = this.now();
    const seen = new Set<string>();
    for (const spec of list) {
      const problem = specProblem(spec);
      if (problem) {
        if (!this.invalid.has(spec.id)) this.log.warn(`site ${spec.id} not scheduled: ${problem}`);
        this.invalid.add(spec.id);
        continue;
      }
      this.invalid.delete(spec.id);
      seen.add(spec.id);
      const print = fingerprint(spec);
      if (this.known.get(spec.id)?.print === print) continue;
      this.known.set(spec.id, { spec, print });
      this.schedule.upsert(spec, now);
    }
    for (const id of [...this.known.keys()]) {
      if (seen.has(id)) continue;
      this.known.delete(id);
      this.schedule.remove(id);
      this.suspects.delete(id);
      this.checker.release?.(id);
      this.options.certificates?.forget(id);
    }
    this.metrics.sitesScheduled(this.schedule.size);
    this.arm();
  }

  private tick(): void {
    this.wake = undefined;
    this.wakeAt = Infinity;
    if (this.state !== 'running') return;
    const now = this.now();
    if (now + CLOCK_STEP_BACK_MS < this.lastNow) this.rebuild(now);
    this.lastNow = now;

    const { due, missed } = this.schedule.takeDue(now);
    for (const m of missed) this.metrics.roundsMissed(m.rounds, 'stall');
    for (const job of due) {
      this.lanes.push(job, this.suspects.has(job.site.id) ? 'suspect' : 'main');
    }
    this.pump();
    this.arm();
  }

  /** The wall clock went backwards: re-derive every site's next round from "now". */
  private rebuild(now: number): void {
    this.log.warn('wall clock stepped backwards; re-deriving the schedule');
    this.schedule = new RoundSchedule(this.options.maxLateMs);
    for (const { spec } of this.known.values()) this.schedule.upsert(spec, now);
  }

  private arm(): void {
    if (this.state !== 'running') return;
    const next = this.schedule.nextDueAt();
    if (next === undefined) return;
    const wakeAt = Math.min(next, this.now() + MAX_SLEEP_MS);
    if (this.wake && this.wakeAt <= wakeAt) return;
    clearTimeout(this.wake);
    this.wakeAt = wakeAt;
    this.wake = setTimeout(() => this.tick(), Math.max(0, wakeAt - this.now()));
    this.wake.unref();
  }

  /** Starts queued checks while slots are free; drops the ones now too late. */
  private pump(): void {
    if (this.overloaded()) return;
    for (let next = this.lanes.take(); next; next = this.lanes.take()) {
      const { job, lane } = next;
      const id = job.site.id;
      const lag = this.now() - job.dueAt;
      if (!this.schedule.has(id)) {
        this.lanes.done(lane); // removed while it waited: not a missed round
        continue;
      }
      if (lag > lateLimitMs(job.site.intervalMs, this.options.maxLateMs)) {
        this.lanes.done(lane);
        this.metrics.roundsMissed(1, 'queue');
        continue;
      }
      if (this.running.has(id)) {
        this.lanes.done(lane);
        this.metrics.roundsMissed(1, 'overlap');
        continue;
      }
      this.launch(job, lane, lag);
      if (this.overloaded()) break;
    }
    this.metrics.queueState(this.lanes.queued, this.lanes.inFlight);
  }

  /** The loop runs late: start nothing now, look again shortly (queued rounds wait or expire). */
  private overloaded(): boolean {
    if (!this.loopLag || this.loopLag.lagMs() <= this.options.maxLoopLagMs!) return false;
    this.held++;
    // Rounds held past their late limit are skipped now: the queue stays bounded by the sites.
    const now = this.now();
    const late = this.lanes.dropStale(
      (j) => now - j.dueAt > lateLimitMs(j.site.intervalMs, this.options.maxLateMs),
    );
    if (late > 0) this.metrics.roundsMissed(late, 'queue');
    if (!this.overloadTimer && this.state === 'running') {
      this.overloadTimer = setTimeout(() => {
        this.overloadTimer = undefined;
        if (this.state === 'running') this.pump();
      }, OVERLOAD_RETRY_MS);
      this.overloadTimer.unref();
    }
    return true;
  }

  private launch(job: Job, lane: Lane, lag: number): void {
    const { site } = job;
    const ac = new AbortController();
    this.running.set(site.id, ac);
    this.metrics.checkStarted(lag, lane);
    const target: CheckTarget = {
      url: site.url,
      ...(site.check ? { check: site.check } : {}),
      timeoutMs: Math.min(site.timeoutMs, site.intervalMs),
      expectedStatus: site.expectedStatus,
      keyword: site.keyword,
      followRedirects: site.followRedirects,
      maxRedirects: site.maxRedirects,
      keepAliveKey: site.keepAlive ? site.id : undefined,
    };
    const done: Promise<void> = this.checkWithRetries(site, target, ac.signal)
      .then(
        (result) => this.finish(job, lane, target, result, ac.signal.aborted),
        (e: unknown) => this.log.error(`check of ${site.id} threw: ${(e as Error).message}`),
      )
      .finally(() => {
        if (this.running.get(site.id) === ac) this.running.delete(site.id);
        this.lanes.done(lane);
        this.pending.delete(done);
        if (this.state === 'running') this.pump();
      });
    this.pending.add(done);
  }

  /**
   * The check, retried while it fails and `site.retries` allow, inside one budget:
   * target.timeoutMs from the first attempt's start. The answer is the last attempt's,
   * dated at the first attempt (the round's check started then).
   */
  private async checkWithRetries(
    site: SiteSpec,
    target: CheckTarget,
    signal: AbortSignal,
  ): Promise<CheckResult> {
    const first = await this.checker.check(target, signal);
    const retries = Math.min(RETRY_CAP, Math.max(0, Math.floor(site.retries ?? 0)));
    if (first.up || retries === 0) return first;
    const delay = Math.max(0, Math.floor(site.retryDelayMs ?? 0));
    const deadline = this.startedAt(first) + target.timeoutMs;
    let result = first;
    let attempts = 1;
    for (let attempt = 1; attempt <= retries && !result.up && !signal.aborted; attempt++) {
      if (deadline - this.now() - delay < MIN_RETRY_BUDGET_MS) break;
      if (delay > 0 && !(await sleep(delay, signal))) break;
      const budget = deadline - this.now();
      if (budget < MIN_RETRY_BUDGET_MS) break;
      this.metrics.checkRetried();
      result = await this.checker.check({ ...target, timeoutMs: budget }, signal);
      attempts++;
    }
    return attempts === 1 ? first : { ...result, checkedAt: first.checkedAt, attempts };
  }

  private startedAt(r: CheckResult): number {
    return Number.isFinite(r.checkedAt) ? Math.min(r.checkedAt, this.now()) : this.now();
  }

  private finish(
    job: Job,
    lane: Lane,
    target: CheckTarget,
    r: CheckResult,
    cancelled: boolean,
  ): void {
    if (cancelled) return; // shutdown cut it short: not an observation of the site
    const { site } = job;
    this.metrics.checkFinished(r, lane, site.id);
    if (r.failure === 'TIMEOUT' || r.latencyMs > target.timeoutMs / 2) this.suspects.add(site.id);
    else this.suspects.delete(site.id);
    if (!this.schedule.has(site.id)) return; // deleted or paused while it ran
    this.options.certificates?.record(site.id, r.checkedAt, r.certificate);
    try {
      this.sink.onResult(site, job.round, r);
    } catch (e) {
      this.log.error(`result sink failed for ${site.id}: ${(e as Error).message}`);
    }
  }
}

function specProblem(s: SiteSpec): string | undefined {
  if (typeof s.id !== 'string' || s.id.length === 0) return 'empty id';
  if (!Number.isInteger(s.intervalMs) || s.intervalMs < 1_000) return 'intervalMs below 1000';
  if (!Number.isInteger(s.timeoutMs) || s.timeoutMs < 1) return 'timeoutMs not a positive integer';
  if (typeof s.url !== 'string' || s.url.length === 0) return 'empty url';
  return undefined;
}

// Sources share one spec object for every default check: encode each spec object once.
const checkPrints = new WeakMap<object, string>();

function checkPrint(check: SiteSpec['check']): string {
  if (!check) return '';
  let print = checkPrints.get(check);
  if (print === undefined) checkPrints.set(check, (print = JSON.stringify(check)));
  return print;
}

function fingerprint(s: SiteSpec): string {
  return JSON.stringify([
    s.url,
    checkPrint(s.check),
    s.intervalMs,
    s.timeoutMs,
    s.expectedStatus,
    s.keyword ?? null,
    s.followRedirects ?? null,
    s.maxRedirects ?? null,
    s.keepAlive ?? null,
    s.retries ?? 0,
    s.retryDelayMs ?? 0,
    s.anchor?.round ?? null,
    s.anchor?.at ?? null,
  ]);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
