/**
 * One DnsCache per process, shared by every check (and later by the websites API's
 * SSRF guard). Swap `DnsResolver` to point the cache at a fake in tests.
 */
import { Module } from '@nestjs/common';
import { DnsCache } from './dns-cache';
import { DnsResolver, NodeDnsResolver } from './dns-resolver';

@Module({
  providers: [
    { provide: DnsResolver, useClass: NodeDnsResolver },
    { provide: DnsCache, useFactory: (r: DnsResolver) => new DnsCache(r), inject: [DnsResolver] },
  ],
  exports: [DnsCache],
})
export class DnsModule {}
