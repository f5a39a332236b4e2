import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { PrismaService } from '@/infra/database/prisma.service';
import { EventBus } from '@/infra/events/event-bus.port';
import { ClusterStatus } from '@/modules/raft/cluster-status';

/** Liveness says the process runs; readiness says it can do its job now. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly prisma: PrismaService,
    private readonly events: EventBus,
    private readonly cluster: ClusterStatus,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: database, event bus and Raft role' })
  ready() {
    return this.health.check([
      async () => {
        const i = this.indicator.check('database');
        try {
          await this.prisma.ping();
          return i.up();
        } catch (e) {
          return i.down({ message: (e as Error).message });
        }
      },
      async () => {
        const i = this.indicator.check('events');
        const h = await this.events.health();
        return h.up ? i.up({ kind: h.kind }) : i.down({ kind: h.kind, message: h.detail });
      },
      async () => {
        const i = this.indicator.check('raft');
        const s = this.cluster.snapshot();
        const info = { role: s.role, term: s.term, leader: s.leaderId };
        // A node that knows a leader (or is one) can serve; an election in progress cannot.
        return s.leaderId !== null ? i.up(info) : i.down(info);
      },
    ]);
  }
}
