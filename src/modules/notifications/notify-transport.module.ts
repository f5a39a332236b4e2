/**
 * What both the notifications API (test sends, SSRF checks at creation) and the alert service
 * (deliveries) use to reach providers: the guarded HTTP client, the per-provider sender and the
 * clock notifications run on. One instance per process.
 */
import { Module } from '@nestjs/common';
import { DnsModule } from '@/modules/dns/dns.module';
import { ChannelSender } from './channel-sender';
import { NotifyClock } from './notify-clock';
import { NotifyHttp } from './notify-http';

@Module({
  imports: [DnsModule],
  providers: [NotifyHttp, ChannelSender, NotifyClock],
  exports: [NotifyHttp, ChannelSender, NotifyClock, DnsModule],
})
export class NotifyTransportModule {}
