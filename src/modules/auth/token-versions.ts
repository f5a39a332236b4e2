/**
 * Token revocation. Every token carries the account's token version (`ver`); logout,
 * a password change and account deletion bump it, and a token of an older version,
 * or of a deleted account, is refused on every request, REST and real-time alike.
 * Versions are cached for CACHE_MS per node: this node forgets at once what it
 * revoked itself, other nodes within CACHE_MS. Listeners (the real-time gateways)
 * hear local revocations at once and re-check their connections every few seconds.
 */
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { UserRepository } from './user.repository';

const CACHE_MS = 2_000;

@Injectable()
export class TokenVersions {
  private readonly cache = new LRUCache<string, { version: number | null }>({
    max: 50_000,
    ttl: CACHE_MS,
  });
  private readonly listeners = new Set<(userId: string) => void>();

  constructor(private readonly users: UserRepository) {}

  /** Whether a token of `version` for `userId` is still valid. */
  async isCurrent(userId: string, version: number): Promise<boolean> {
    let hit = this.cache.get(userId);
    if (!hit) {
      hit = { version: await this.users.tokenVersionOf(userId) };
      this.cache.set(userId, hit);
    }
    return hit.version !== null && hit.version === version;
  }

  /** Records that `userId`'s tokens up to now are void (the caller already bumped the row). */
  revoked(userId: string, newVersion: number | null): void {
    this.cache.set(userId, { version: newVersion });
    for (const l of this.listeners) l(userId);
  }

  onRevoked(listener: (userId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
