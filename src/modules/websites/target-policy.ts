/**
 * SSRF guard at registration: a site's URL must be http(s) and its host must resolve,
 * through the shared DNS cache, to public addresses only (unless ALLOW_PRIVATE_TARGETS).
 * The ping engine repeats the address test at connect time, which catches rebinding.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { assertPublicUrl, bareHostname, BlockedTargetError } from '@/common/net/ssrf-guard';
import { AppConfig } from '@/config/app-config';
import { DnsCache, DnsLookupError } from '@/modules/dns/dns-cache';

const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'ENOENT', 'NXDOMAIN', 'ENONAME']);

@Injectable()
export class TargetPolicy {
  constructor(
    private readonly dns: DnsCache,
    private readonly config: AppConfig,
  ) {}

  /** Throws TARGET_NOT_ALLOWED (422) for a refused or unresolvable target. */
  async assertAllowed(url: string): Promise<void> {
    try {
      await assertPublicUrl(
        url,
        (host) => this.dns.resolveAll(host),
        this.config.ping.allowPrivateTargets,
      );
    } catch (e) {
      throw toDomainError(e, url);
    }
  }
}

function toDomainError(e: unknown, url: string): DomainError {
  if (e instanceof BlockedTargetError) {
    const host = hostOf(url);
    const why =
      e.address === undefined
        ? e.message
        : e.address === host
          ? `${e.address} is a ${e.ipClass} address`
          : `host ${host} resolves to ${e.address}, a ${e.ipClass} address`;
    return refused(`target not allowed: ${why}; only public addresses can be monitored`);
  }
  if (e instanceof DnsLookupError) {
    return refused(
      NO_SUCH_NAME.has(e.code)
        ? `target not allowed: host ${e.hostname} does not resolve (${e.code})`
        : `target not allowed: host ${e.hostname} could not be resolved (${e.code}); try again later`,
    );
  }
  throw e;
}

function hostOf(url: string): string {
  try {
    return bareHostname(new URL(url));
  } catch {
    return url;
  }
}

function refused(message: string): DomainError {
  return new DomainError('TARGET_NOT_ALLOWED', message, [{ path: 'url', message }]);
}
