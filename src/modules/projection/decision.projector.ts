/**
 * Projects committed decisions into PostgreSQL, on the Raft leader only, in log
 * order, idempotently by log index:
 *  - alerts first (AlertPublisher: one row per dedup key, then health-alerts), so a
 *    crash after them and before the rows only repeats harmless publishes;
 *  - then, in one transaction: the `decisions` row (ON CONFLICT DO NOTHING),
 *    `site_status` (only when last_log_index grows), `incidents` opened/closed
 *    idempotently, and the `projection_cursors` row 'decisions'.
 * A new leader resumes after the cursor from the ApplyRing (every node keeps one).
 * A failure (database down) is retried with exponential backoff; it never blocks
 * Raft: the commit listener only records and kicks.
 */
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import type { StatusTransition } from '@/core/consensus/site-status.machine';
import { PrismaService } from '@/infra/database/prisma.service';
import type { AlertPublisher } from '@/modules/alerts/alert.publisher';
import { SiteGoneError } from '@/modules/alerts/alert.publisher';
import type { ApplyRing, AppliedDecision } from '@/modules/consensus/apply-ring';
import { isUuid, SiteDirectory } from './site-directory';

export const CURSOR_NAME = 'decisions';
const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export interface ProjectorStats {
  projected: number;
  failures: number;
  lastIndex: number | null;
  skippedGap: { from: number; to: number } | null;
}

@Injectable()
export class DecisionProjector implements OnModuleDestroy {
  private readonly log = new Logger('DecisionProjector');
  private ring: ApplyRing | null = null;
  private alerts: AlertPublisher | null = null;
  private isLeader: () => boolean = () => false;
  /** last index projected (or known projected) in this leadership; null: read the cursor first */
  private done: number | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  readonly stats: ProjectorStats = { projected: 0, failures: 0, lastIndex: null, skippedGap: null };

  constructor(
    private readonly prisma: PrismaService,
    private readonly sites: SiteDirectory,
  ) {}

  bind(ring: ApplyRing, isLeader: () => boolean, alerts: AlertPublisher | null): void {
    this.ring = ring;
    this.isLeader = isLeader;
    this.alerts = alerts;
  }

  /** This node became leader (or lost it): start over from the cursor. */
  leadershipChanged(): void {
    this.done = null;
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.wake?.();
      return;
    }
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.stopped && this.isLeader() && this.ring) {
      try {
        if (this.done === null) this.done = await this.readCursor();
        const next = this.ring.next(this.done);
        if (!next) return;
        await this.project(next);
        this.done = next.index;
        this.stats.projected++;
        this.stats.lastIndex = next.index;
        backoff = MIN_BACKOFF_MS;
      } catch (e) {
        this.stats.failures++;
        this.log.warn(`projection failed, retrying in ${backoff} ms: ${(e as Error).message}`);
        await this.sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async readCursor(): Promise<number> {
    const row = await this.prisma.projectionCursor.findUnique({ where: { name: CURSOR_NAME } });
    const cursor = row ? Number(row.lastIndex) : 0;
    const floor = this.ring?.floor() ?? null;
    if (floor !== null && cursor + 1 < floor) {
      const gap = { from: cursor + 1, to: floor - 1 };
      // Only entries this node still remembers can be projected; older ones are lost to the projection.
      if (this.ring!.next(cursor) && gap.to >= gap.from) {
        this.stats.skippedGap = gap;
        // cursor 0: nothing was ever projected; in a fresh cluster the entries before this
        // node's first command are the leaders' no-ops, so this is informational only.
        (cursor === 0 ? this.log.log.bind(this.log) : this.log.warn.bind(this.log))(
          `decisions ${gap.from}..${gap.to} were committed but may not be projected: ` +
            `they are older than this node's apply ring (floor ${floor})`,
        );
      }
    }
    return cursor;
  }

  private async project(item: AppliedDecision): Promise<void> {
    const r = item.result;
    if (r.kind !== 'decision') {
      await this.advanceCursor(item.index);
      return;
    }
    const d = r.decision;
    const site = await this.sites.get(d.siteId);
    if (!site || !isUuid(d.siteId)) {
      // The site is gone (or was never a database site): nothing to attach rows to.
      await this.advanceCursor(item.index);
      return;
    }
    const url = d.url ?? site.url;
    if (this.alerts) {
      for (const t of r.transitions) await this.publishAlert(t, url, item.index);
    }
    const s = r.status;
    await this.prisma.$transaction(async (tx) => {
      const cur = await tx.projectionCursor.findUnique({ where: { name: CURSOR_NAME } });
      if (cur && Number(cur.lastIndex) >= item.index) return;
      const exists = await tx.website.findUnique({ where: { id: d.siteId }, select: { id: true } });
      if (exists) {
        await tx.decision.createMany({
          data: [
            {
              logIndex: BigInt(item.index),
              term: BigInt(item.term),
              websiteId: d.siteId,
              round: BigInt(d.round),
              verdict: d.verdict,
              regionVerdicts: d.regionVerdicts,
              tally: d.tally as unknown as Prisma.InputJsonValue,
              voters: [...d.voters],
              decidedAt: new Date(d.decidedAt),
            },
          ],
          skipDuplicates: true,
        });
        const since = new Date(s.since ?? s.lastDecidedAt);
        const regions = JSON.stringify(s.regions);
        await tx.$executeRaw`
          INSERT INTO site_status (website_id, verdict, since, last_round, last_log_index, region_status, updated_at)
          VALUES (${d.siteId}::uuid, ${s.verdict}::"Verdict", ${since}, ${BigInt(s.lastRound)},
                  ${BigInt(item.index)}, ${regions}::jsonb, now())
          ON CONFLICT (website_id) DO UPDATE SET
            verdict = EXCLUDED.verdict, since = EXCLUDED.since, last_round = EXCLUDED.last_round,
            last_log_index = EXCLUDED.last_log_index, region_status = EXCLUDED.region_status,
            updated_at = now()
          WHERE site_status.last_log_index < EXCLUDED.last_log_index`;
        for (const t of r.transitions) await this.incident(tx, t);
      }
      await tx.$executeRaw`
        INSERT INTO projection_cursors (name, last_index, updated_at)
        VALUES (${CURSOR_NAME}, ${BigInt(item.index)}, now())
        ON CONFLICT (name) DO UPDATE SET last_index = GREATEST(projection_cursors.last_index, EXCLUDED.last_index),
          updated_at = now()`;
    });
  }

  private async incident(tx: Prisma.TransactionClient, t: StatusTransition): Promise<void> {
    const at = new Date(t.at);
    const opens = t.kind === 'DOWN' || t.kind === 'REGION_DOWN';
    if (opens) {
      // Idempotent: one incident per (site, region, start round), and none while one is open.
      const open = await tx.incident.findFirst({
        where: {
          websiteId: t.siteId,
          region: t.region,
          OR: [{ endedAt: null }, { startRound: BigInt(t.round) }],
        },
        select: { id: true },
      });
      if (!open)
        await tx.incident.create({
          data: {
            websiteId: t.siteId,
            region: t.region,
            startedAt: at,
            startRound: BigInt(t.round),
          },
        });
    } else {
      await tx.incident.updateMany({
        // Only an incident opened before this round: a replayed old recovery closes nothing newer.
        where: {
          websiteId: t.siteId,
          region: t.region,
          endedAt: null,
          startRound: { lt: BigInt(t.round) },
        },
        data: { endedAt: at, endRound: BigInt(t.round) },
      });
    }
  }

  private async publishAlert(t: StatusTransition, url: string, logIndex: number): Promise<void> {
    try {
      await this.alerts!.publish({
        siteId: t.siteId,
        url,
        kind: t.kind,
        region: t.region,
        round: t.round,
        decisionLogIndex: logIndex,
        tally: {
          up: t.tally.up,
          down: t.tally.down,
          total: t.tally.total,
          quorum: t.tally.quorum,
          byRegion: { ...t.tally.byRegion },
        },
        at: t.at,
      });
    } catch (e) {
      if (e instanceof SiteGoneError) return;
      throw e;
    }
  }

  private async advanceCursor(index: number): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO projection_cursors (name, last_index, updated_at)
      VALUES (${CURSOR_NAME}, ${BigInt(index)}, now())
      ON CONFLICT (name) DO UPDATE SET last_index = GREATEST(projection_cursors.last_index, EXCLUDED.last_index),
        updated_at = now()`;
  }
}
