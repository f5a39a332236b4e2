/**
 * Verifies presented API keys for UserTokenGuard. A verdict is cached per node for CACHE_MS
 * (by the key's hash, never the key): this node forgets a key it revoked at once, other nodes
 * within CACHE_MS. Expiry is checked on every request, cached or not. Keys are never logged.
 */
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '@/config/app-config';
import { ApiKeyPrincipal, ApiKeyVerifier } from '@/modules/auth/api-key-verifier';
import { ApiKeyOwner, ApiKeyRepository } from './api-key.repository';
import { apiKeyHash, looksLikeApiKey } from './api-key.secret';
import { ApiKeyUsage } from './api-key-usage';

const CACHE_MS = 2_000;

@Injectable()
export class ApiKeyAuthenticator extends ApiKeyVerifier {
  private readonly cache = new LRUCache<string, { key: ApiKeyOwner | null }>({
    max: 50_000,
    ttl: CACHE_MS,
  });

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly usage: ApiKeyUsage,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async verify(presented: string): Promise<ApiKeyPrincipal | null> {
    if (!looksLikeApiKey(presented)) return null;
    const hash = this.hash(presented);
    const id = hash.toString('base64');
    let hit = this.cache.get(id);
    if (!hit) {
      hit = { key: await this.repo.findByHash(hash) };
      this.cache.set(id, hit);
    }
    const key = hit.key;
    if (!key || (key.expiresAt !== null && key.expiresAt.getTime() <= Date.now())) return null;
    this.usage.used(key.id);
    return {
      keyId: key.id,
      ownerId: key.ownerId,
      ownerEmail: key.ownerEmail,
      scope: key.scope,
      ownerTokenVersion: key.ownerTokenVersion,
      ...(key.expiresAt !== null ? { expiresAt: key.expiresAt.getTime() } : {}),
    };
  }

  stillPresent(keyIds: readonly string[]): Promise<Set<string>> {
    return this.repo.existing(keyIds);
  }

  hash(key: string): Buffer {
    return apiKeyHash(this.config.apiKeys.pepper!, key);
  }

  /** Forgets every cached verdict about the key with this id (after a local revocation). */
  forget(keyId: string): void {
    for (const [h, v] of this.cache.entries()) if (v.key?.id === keyId) this.cache.delete(h);
  }
}
