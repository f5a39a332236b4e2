import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { text } from 'express';
import { NotificationsModule } from '@/modules/notifications/notifications.module';
import { WebsitesModule } from '@/modules/websites/websites.module';
import { ConfigIoController } from './config-io.controller';
import { ConfigIoService } from './config-io.service';

/** GET /api/export and POST /api/import: sites and channels as code (YAML or JSON). */
@Module({
  imports: [WebsitesModule, NotificationsModule],
  controllers: [ConfigIoController],
  providers: [ConfigIoService],
})
export class ConfigIoModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // YAML bodies, bounded like JSON ones (the global parser only reads JSON).
    consumer
      .apply(
        text({
          type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'],
          limit: '256kb',
        }),
      )
      .forRoutes({ path: 'import', method: RequestMethod.POST });
  }
}
