/**
 * SSRF guard at registration: a site's URL must be http(s) and, if its host resolves
 * (through the shared DNS cache), only to public addresses (unless ALLOW_PRIVATE_TARGETS).
 * A name that does not resolve right now (a new domain, a DNS outage) is accepted: its
 * checks report it DOWN with the DNS failure class. The ping engine repeats the address
 * test on the address actually dialled, which catches rebinding and names that resolve
 * later. A refusal names the host and the class of address, never the address itself.
 */
import { Injectable } from '@nestjs/common';
import { DomainError } from '@/common/domain-error';
import { assertPublicUrl, bareHostname, BlockedTargetError } from '@/common/net/ssrf-guard';
import { AppConfig } from '@/config/app-config';
import { DnsCache, DnsLookupError } from '@/modules/dns/dns-cache';
import { endpointOf, parseResolver, type CheckSpec } from '@/modules/ping/check-spec';

@Injectable()
export class TargetPolicy {
  constructor(
    private readonly dns: DnsCache,
    private readonly config: AppConfig,
  ) {}

  /**
   * Throws TARGET_NOT_ALLOWED (422) for a refused target; a name that does not resolve passes.
   * tcp and tls targets are held to the same rule as a URL; a dns check dials its resolver.
   */
  async assertAllowed(url: string, check?: CheckSpec): Promise<void> {
    switch (check?.kind) {
      case undefined:
      case 'http':
        return this.assertUrl(url);
      case 'tcp':
      case 'tls': {
        const at = endpointOf(check.kind, url);
        if (!at) return; // the DTO already refused it
        return this.assertUrl(`http://${hostPart(at.host)}:${at.port}/`, url);
      }
      case 'push':
        return; // nothing is dialled: validators read the replicated last beat
      case 'dns': {
        const server = check.resolver === null ? undefined : parseResolver(check.resolver);
        if (!server) return;
        return this.assertUrl(`http://${hostPart(server.address)}/`, check.resolver ?? '');
      }
    }
  }

  private async assertUrl(url: string, shown = url): Promise<void> {
    try {
      await assertPublicUrl(
        url,
        (host) => this.dns.resolveAll(host),
        this.config.ping.allowPrivateTargets,
      );
    } catch (e) {
      if (e instanceof DnsLookupError) return;
      throw toDomainError(e, shown);
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
          : `host ${host} resolves to a ${e.ipClass} address`;
    return refused(`target not allowed: ${why}; only public addresses can be monitored`);
  }
  throw e;
}

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
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
