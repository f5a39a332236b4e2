/**
 * A SiteSource held in memory, for tests, benches and embedded demos. Changes
 * notify subscribers at once, so the scheduler picks them up without polling.
 */
import { SiteSource, SiteSpec } from './site-source';

export class InMemorySiteSource extends SiteSource {
  private readonly sites = new Map<string, SiteSpec>();
  private readonly listeners = new Set<() => void>();

  constructor(initial: SiteSpec[] = []) {
    super();
    for (const s of initial) this.sites.set(s.id, s);
  }

  override async listActive(): Promise<SiteSpec[]> {
    return [...this.sites.values()];
  }

  override onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  upsert(...specs: SiteSpec[]): void {
    for (const s of specs) this.sites.set(s.id, s);
    this.notify();
  }

  remove(...ids: string[]): void {
    for (const id of ids) this.sites.delete(id);
    this.notify();
  }

  replaceAll(specs: SiteSpec[]): void {
    this.sites.clear();
    for (const s of specs) this.sites.set(s.id, s);
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
