import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ZodValidationPipe } from 'nestjs-zod';
import { AllExceptionsFilter } from '@/common/all-exceptions.filter';
import { AppConfig } from '@/config/app-config';
import { ConfigModule } from '@/config/config.module';
import { ClusterModule } from '@/infra/cluster/cluster.module';
import { DatabaseModule } from '@/infra/database/database.module';
import { EventsModule } from '@/infra/events/events.module';
import { LoggingModule } from '@/infra/logging/logging.module';
import { AlertsModule } from '@/modules/alerts/alerts.module';
import { ApiKeysModule } from '@/modules/api-keys/api-keys.module';
import { AuthModule } from '@/modules/auth/auth.module';
import { BadgesModule } from '@/modules/badges/badges.module';
import { ClusterOverviewModule } from '@/modules/cluster-overview/cluster-overview.module';
import { ConfigIoModule } from '@/modules/config-io/config-io.module';
import { ConsensusModule } from '@/modules/consensus/consensus.module';
import { DashboardModule } from '@/modules/dashboard/dashboard.module';
import { DnsModule } from '@/modules/dns/dns.module';
import { GossipModule } from '@/modules/gossip/gossip.module';
import { SigningResultSink } from '@/modules/gossip/signing-result.sink';
import { HealthModule } from '@/modules/health/health.module';
import { HistoryModule } from '@/modules/history/history.module';
import { LogsModule } from '@/modules/logs/logs.module';
import { MetricsModule } from '@/modules/metrics/metrics.module';
import { NotificationsModule } from '@/modules/notifications/notifications.module';
import { PingModule } from '@/modules/ping/ping.module';
import { PingLogsModule } from '@/modules/ping-logs/ping-logs.module';
import { ProjectionModule } from '@/modules/projection/projection.module';
import { PushModule } from '@/modules/push/push.module';
import { RaftModule } from '@/modules/raft/raft.module';
import { RealtimeModule } from '@/modules/realtime/realtime.module';
import { SimulateModule } from '@/modules/simulate/simulate.module';
import { StatusPagesModule } from '@/modules/status-pages/status-pages.module';
import { WebsiteSiteSource } from '@/modules/websites/website.site-source';
import { WebsitesModule } from '@/modules/websites/websites.module';

/** Composition root: feature modules and the shared infrastructure, nothing else. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // Kept as values: MetricsModule imports these very module objects (no second instance).
    const ping = PingModule.forRoot({
      imports: [WebsitesModule, GossipModule, PushModule],
      siteSource: WebsiteSiteSource,
      resultSink: SigningResultSink,
    });
    const alerts = AlertsModule.forRoot(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule,
        EventsModule,
        ClusterModule,
        RaftModule,
        HealthModule,
        AuthModule,
        ApiKeysModule,
        WebsitesModule,
        HistoryModule,
        PingLogsModule,
        DnsModule,
        ping,
        GossipModule,
        ConsensusModule,
        ProjectionModule,
        LogsModule,
        SimulateModule,
        alerts,
        NotificationsModule,
        RealtimeModule,
        // the web dashboard's read models, public status pages and badges
        DashboardModule,
        StatusPagesModule,
        BadgesModule,
        ClusterOverviewModule,
        ConfigIoModule,
        MetricsModule.forRoot({
          imports: [ping, GossipModule, alerts, ConsensusModule, ProjectionModule],
        }),
      ],
      providers: [
        { provide: APP_PIPE, useClass: ZodValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
