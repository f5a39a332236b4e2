/**
 * The last certificate this node's checks saw per site (https, tls, tcp+tls), for the
 * site's live status. In memory and per node, like the scheduler that fills it; one
 * entry per scheduled site, dropped when the site is.
 */
import { Injectable, Module } from '@nestjs/common';
import type { CertificateFacts } from './check-result';

export interface CertificateSeen extends CertificateFacts {
  /** when the check that saw it started, epoch ms */
  checkedAt: number;
}

@Injectable()
export class CertificateLedger {
  private readonly seen = new Map<string, CertificateSeen>();

  record(siteId: string, checkedAt: number, facts: CertificateFacts | undefined): void {
    if (facts) this.seen.set(siteId, { ...facts, checkedAt });
  }

  forget(siteId: string): void {
    this.seen.delete(siteId);
  }

  get(siteId: string): CertificateSeen | undefined {
    return this.seen.get(siteId);
  }
}

/** Imported by the ping module (which fills the ledger) and the websites module (which reads it). */
@Module({ providers: [CertificateLedger], exports: [CertificateLedger] })
export class CertificatesModule {}
