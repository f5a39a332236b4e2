/**
 * The projection's database side (ProjectionStore): one transaction per batch, holding
 * the cursor row's lock, so two leaders (a deposed one whose write is still in flight and
 * its successor) serialize and neither writes a decision twice: only the batch's part
 * above the stored cursor is written.
 */
import { Injectable } from '@nestjs/common';
import { Prisma } from '@/generated/prisma/client';
import type { StatusTransition } from '@/core/consensus/site-status.machine';
import type {
  ProjectedDecision,
  ProjectionBatch,
  ProjectionStore,
} from '@/core/pipeline/projection.ports';
import { PrismaService } from '@/infra/database/prisma.service';
import { isUuid } from './site-directory';

export const CURSOR_NAME = 'decisions';
/** A batch of a few thousand decisions on a loaded database may take longer than Prisma's 5 s default. */
const TX_OPTIONS = { maxWait: 10_000, timeout: 60_000 };

@Injectable()
export class PrismaProjectionStore implements ProjectionStore {
  constructor(private readonly prisma: PrismaService) {}

  async readCursor(): Promise<number> {
    const row = await this.prisma.projectionCursor.findUnique({ where: { name: CURSOR_NAME } });
    return row ? Number(row.lastIndex) : 0;
  }

  async write(batch: ProjectionBatch): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      // Creates the cursor row if missing and locks it, in one statement: DO UPDATE takes the
      // row lock (a competing leader's batch waits here) and returns the latest committed index.
      const [cur] = await tx.$queryRaw<{ last_index: bigint }[]>`
        INSERT INTO projection_cursors (name, last_index, updated_at)
        VALUES (${CURSOR_NAME}, 0, now())
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING last_index`;
      const stored = Number(cur.last_index);
      if (stored >= batch.through) return;
      const fresh = batch.decisions.filter((d) => d.index > stored && isUuid(d.decision.siteId));
      await this.writeDecisions(tx, fresh);
      await tx.$executeRaw`
        UPDATE projection_cursors SET last_index = ${BigInt(batch.through)}, updated_at = now()
         WHERE name = ${CURSOR_NAME}`;
    }, TX_OPTIONS);
  }

  private async writeDecisions(
    tx: Prisma.TransactionClient,
    decided: readonly ProjectedDecision[],
  ): Promise<void> {
    if (decided.length === 0) return;
    // One statement for the whole batch, its rows as one JSON parameter: Prisma's createMany
    // builds and validates every row in JS, which made it the leader's largest cost.
    // A decision of a site deleted meanwhile has no row to reference: left out here.
    await tx.$executeRawUnsafe(INSERT_DECISIONS_SQL, JSON.stringify(decided.map(decisionRow)));
    // The latest status per site (a batch may hold several rounds of one site); the statement
    // leaves out sites deleted meanwhile, as the decisions insert does.
    const latest = [...new Map(decided.map((x) => [x.decision.siteId, x])).values()];
    const st = latest.map((x) => x.status);
    await tx.$executeRaw`
      INSERT INTO site_status (website_id, verdict, since, last_round, last_log_index, region_status, updated_at)
      SELECT u.id, u.verdict::"Verdict", u.since, u.last_round, u.log_index, u.regions::jsonb, now()
        FROM unnest(${st.map((s) => s.siteId)}::uuid[], ${st.map((s) => s.verdict)}::text[],
                    ${st.map((s) => new Date(s.since ?? s.lastDecidedAt))}::timestamptz[],
                    ${st.map((s) => BigInt(s.lastRound))}::bigint[],
                    ${latest.map((x) => BigInt(x.index))}::bigint[],
                    ${st.map((s) => JSON.stringify(s.regions))}::text[])
             AS u(id, verdict, since, last_round, log_index, regions)
       CROSS JOIN LATERAL (SELECT 1 FROM websites w WHERE w.id = u.id LIMIT 1) AS site
      ON CONFLICT (website_id) DO UPDATE SET
        verdict = EXCLUDED.verdict, since = EXCLUDED.since, last_round = EXCLUDED.last_round,
        last_log_index = EXCLUDED.last_log_index, region_status = EXCLUDED.region_status,
        updated_at = now()
      WHERE site_status.last_log_index < EXCLUDED.last_log_index`;
    const changed = decided.filter((x) => x.transitions.length > 0);
    if (changed.length === 0) return;
    // Transitions are rare: only then is it worth asking which of their sites still exist.
    const ids = [...new Set(changed.map((x) => x.decision.siteId))];
    const live = new Set(
      (
        await tx.$queryRaw<{ id: string }[]>`
          SELECT w.id::text AS id FROM unnest(${ids}::uuid[]) AS u(id)
           CROSS JOIN LATERAL (SELECT id FROM websites WHERE id = u.id LIMIT 1) AS w`
      ).map((w) => w.id),
    );
    for (const x of changed)
      if (live.has(x.decision.siteId)) for (const t of x.transitions) await incident(tx, t);
  }
}

const INSERT_DECISIONS_SQL = `
INSERT INTO decisions (log_index, batch_pos, term, website_id, round, verdict, region_verdicts,
                       tally, voters, decided_at)
SELECT r."logIndex", r."batchPos", r.term, r."websiteId", r.round, r.verdict::"Verdict",
       r."regionVerdicts", r.tally, r.voters, r."decidedAt"
  FROM jsonb_to_recordset($1::jsonb) AS r(
       "logIndex" bigint, "batchPos" int, term bigint, "websiteId" uuid, round bigint,
       verdict text, "regionVerdicts" jsonb, tally jsonb, voters text[], "decidedAt" timestamptz)
       -- a primary-key probe per row, never a scan of every site (see ping-log.repository.ts)
       CROSS JOIN LATERAL (SELECT 1 FROM websites w WHERE w.id = r."websiteId" LIMIT 1) AS site
 ORDER BY r."logIndex", r."batchPos"
ON CONFLICT DO NOTHING`;

function decisionRow(x: ProjectedDecision) {
  const d = x.decision;
  return {
    // One log index per entry; decisions of a batch are told apart by their position.
    logIndex: x.index,
    batchPos: x.pos,
    term: x.term,
    websiteId: d.siteId,
    round: d.round,
    verdict: d.verdict,
    regionVerdicts: d.regionVerdicts,
    tally: d.tally,
    voters: [...d.voters],
    decidedAt: new Date(d.decidedAt).toISOString(),
  };
}

async function incident(tx: Prisma.TransactionClient, t: StatusTransition): Promise<void> {
  const at = new Date(t.at);
  if (t.kind === 'DOWN' || t.kind === 'REGION_DOWN') {
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
        data: { websiteId: t.siteId, region: t.region, startedAt: at, startRound: BigInt(t.round) },
      });
    return;
  }
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
