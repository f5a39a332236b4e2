/**
 * The notifications API: channels (with test sends), per-site routing and reminders, maintenance
 * windows and the delivery log. Delivery itself belongs to the alert service (AlertsModule),
 * which shares NotifyTransportModule with this module.
 */
import { Module } from '@nestjs/common';
import { ChannelRepository } from './channel.repository';
import { ChannelsService } from './channels.service';
import { DeliveryLogRepository } from './delivery-log.repository';
import { DeliveryLogService } from './delivery-log.service';
import { MaintenanceController } from './maintenance/maintenance.controller';
import { MaintenanceRepository } from './maintenance/maintenance.repository';
import { MaintenanceService } from './maintenance/maintenance.service';
import { NotificationsController, SiteNotificationsController } from './notifications.controller';
import { NotifyTransportModule } from './notify-transport.module';

@Module({
  imports: [NotifyTransportModule],
  controllers: [NotificationsController, SiteNotificationsController, MaintenanceController],
  providers: [
    ChannelRepository,
    ChannelsService,
    DeliveryLogRepository,
    DeliveryLogService,
    MaintenanceRepository,
    MaintenanceService,
  ],
  exports: [MaintenanceRepository, ChannelsService],
})
export class NotificationsModule {}
