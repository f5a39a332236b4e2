/**
 * The hub tally as a Nest provider: RoundTally fed by VoteInbox, finalized by a
 * ticker, decisions pushed to subscribers. It runs on every node, so a new leader
 * already holds the votes of the rounds in progress; only the Raft leader
 * proposes what it emits (wired by the Raft host).
 */
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { Decision } from '@/core/consensus/decision';
import { SiteStatusMachine } from '@/core/consensus/site-status.machine';
import {
  RoundTally,
  type LiveRound,
  type RosterEntry,
  type RoundTallyStats,
} from '@/core/consensus/round-tally';
import type { Vote } from '@/core/consensus/vote';
import type { Clock } from '@/core/ports/clock.port';
import { AppConfig } from '@/config/app-config';
import { VoteInbox } from './vote-inbox';

export const MAX_OPEN_ROUNDS = 50_000;
export const MAX_TRACKED_SITES = 100_000;

const systemClock: Clock = { now: () => Date.now() };

/** What the hub must know of a site to time its rounds' deadlines. */
export interface SiteTiming {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface TallyServiceStats extends RoundTallyStats {
  /** votes for a deleted (forgotten) site, dropped before the tally */
  forgottenVotes: number;
}

@Injectable()
export class TallyService extends VoteInbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(TallyService.name);
  private readonly tally: RoundTally;
  private readonly subject = new Subject<Decision>();
  private timer?: NodeJS.Timeout;
  private readonly tickMs: number;
  private timings = new Map<string, SiteTiming>();
  private forgottenVotes = 0;

  /** Every finalized decision, once, in finalization order. */
  readonly decisions$: Observable<Decision> = this.subject.asObservable();

  constructor(
    config: AppConfig,
    private readonly machine: SiteStatusMachine = new SiteStatusMachine(),
    clock: Clock = systemClock,
  ) {
    super();
    const c = config.consensus;
    this.tally = new RoundTally(clock, {
      quorumThreshold: c.quorumThreshold,
      minVotes: c.minVotes,
      deadlineMs: c.tallyDeadlineMs,
      fallbackTimeoutMs: config.ping.timeoutMs,
      maxOpenRounds: MAX_OPEN_ROUNDS,
      maxTrackedSites: MAX_TRACKED_SITES,
      // Round start from the replicated schedule, timeout from the site list.
      timingOf: (siteId, round) => {
        const t = this.timings.get(siteId);
        if (!t) return undefined;
        return {
          // the committed segment when there is one; the listed interval only before it
          startsAt: this.machine.roundStart(siteId, round, t.intervalMs),
          timeoutMs: t.timeoutMs,
        };
      },
    });
    // A deadline is honoured within tickMs; 250 ms at the default 5 s deadline.
    this.tickMs = Math.min(250, Math.max(20, Math.floor(c.tallyDeadlineMs / 20)));
  }

  override submit(vote: Vote): void {
    if (this.machine.isForgotten(vote.siteId)) {
      this.forgottenVotes++;
      return;
    }
    const r = this.tally.add(vote);
    if (r.decision) this.emit(r.decision);
  }

  override setRoster(validators: readonly RosterEntry[], expected = validators.length): void {
    this.tally.setRoster(validators, expected);
    this.finalizeDue();
  }

  /** Finalizes what is due now (the ticker calls it; tests may too). */
  finalizeDue(): void {
    for (const d of this.tally.tick()) this.emit(d);
  }

  /** Subscribes to decisions; returns the unsubscribe function. */
  onDecision(listener: (d: Decision) => void): () => void {
    const sub = this.decisions$.subscribe(listener);
    return () => sub.unsubscribe();
  }

  /** Rounds of a site still collecting votes (GET /api/simulate polls this). */
  live(siteId: string): LiveRound[] {
    return this.tally.live(siteId);
  }

  /** The sites this node schedules, with their timeouts (the site source refreshes it). */
  setSiteTimings(timings: ReadonlyMap<string, SiteTiming>): void {
    this.timings = new Map(timings);
  }

  stats(): TallyServiceStats {
    return { ...this.tally.stats(), forgottenVotes: this.forgottenVotes };
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.finalizeDue(), this.tickMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.subject.complete();
  }

  private emit(d: Decision): void {
    try {
      this.subject.next(d);
    } catch (e) {
      this.log.error(`a decision subscriber failed: ${(e as Error).message}`);
    }
  }
}
