/**
 * Real-time API: the Socket.IO gateway, the plain WebSocket endpoint (/ws) and the publisher
 * other modules call. Both transports authenticate with the REST API's tokens and share rooms
 * per user and per site; the PostgreSQL relay carries cluster-wide events (alerts) to every node;
 * PingResultEmitter sends the checks' results, coalesced, to their owners.
 */
import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AppConfig } from '@/config/app-config';
import { AuthModule } from '@/modules/auth/auth.module';
import { WebsitesModule } from '@/modules/websites/websites.module';
import { PingResultEmitter } from './ping-result.emitter';
import { PlainWsServer } from './plain-ws.server';
import { RealtimeAccess } from './realtime-access';
import { RealtimeRelay } from './realtime-relay';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimePublisher } from './realtime.publisher';

@Module({
  imports: [
    WebsitesModule,
    AuthModule,
    // Verification only, with the same secret and algorithm AuthModule signs with.
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: config.security.jwtSecret,
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  providers: [
    RealtimeAccess,
    RealtimeGateway,
    PlainWsServer,
    RealtimePublisher,
    RealtimeRelay,
    {
      provide: PingResultEmitter,
      useFactory: (publisher: RealtimePublisher) => new PingResultEmitter(publisher),
      inject: [RealtimePublisher],
    },
  ],
  exports: [RealtimePublisher, RealtimeRelay, PingResultEmitter],
})
export class RealtimeModule {}
