/**
 * In-process signal that a site was created, changed, paused or deleted here, so this
 * node's scheduler re-reads its list at once; other nodes see it at their next poll.
 */
import { Injectable, Logger } from '@nestjs/common';

@Injectable()
export class SiteChanges {
  private readonly log = new Logger(SiteChanges.name);
  private readonly listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        // A listener's fault must not fail the request that changed the site.
        this.log.warn(`site change listener failed: ${(e as Error).message}`);
      }
    }
  }
}
