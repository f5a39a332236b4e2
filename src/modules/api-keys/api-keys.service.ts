import { Injectable } from '@nestjs/common';
import { AppConfig } from '@/config/app-config';
import { DomainError } from '@/common/domain-error';
import type { ApiKeyScope } from '@/modules/auth/api-key-verifier';
import { ApiKeyRecord, ApiKeyRepository } from './api-key.repository';
import { apiKeyHint, generateApiKey } from './api-key.secret';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeyUsage } from './api-key-usage';

export const DEFAULT_KEY_DAYS = 90;
export const MAX_KEY_DAYS = 366;
const DAY_MS = 86_400_000;

export interface CreateApiKey {
  name: string;
  scope: ApiKeyScope;
  /** default: DEFAULT_KEY_DAYS from now; at most MAX_KEY_DAYS */
  expiresAt?: Date;
}

/** A new key with its secret: the only time the secret exists outside the caller's hands. */
export interface IssuedApiKey extends ApiKeyRecord {
  key: string;
}

/** A user's API keys: issue (shown once), list (never the secret), revoke. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly usage: ApiKeyUsage,
    private readonly config: AppConfig,
  ) {}

  async create(ownerId: string, input: CreateApiKey): Promise<IssuedApiKey> {
    const now = Date.now();
    const expiresAt = input.expiresAt ?? new Date(now + DEFAULT_KEY_DAYS * DAY_MS);
    if (expiresAt.getTime() <= now) throw invalid('expiresAt', 'must be in the future');
    if (expiresAt.getTime() > now + MAX_KEY_DAYS * DAY_MS)
      throw invalid('expiresAt', `at most ${MAX_KEY_DAYS} days from now`);
    const key = generateApiKey();
    const record = await this.repo.create(
      {
        ownerId,
        name: input.name,
        scope: input.scope,
        keyHash: this.authenticator.hash(key),
        hint: apiKeyHint(key),
        expiresAt,
      },
      this.config.apiKeys.maxPerUser,
      new Date(now),
    );
    return { ...record, key };
  }

  async list(ownerId: string): Promise<ApiKeyRecord[]> {
    await this.usage.flush();
    return this.repo.listByOwner(ownerId);
  }

  async revoke(ownerId: string, id: string): Promise<void> {
    if (!(await this.repo.deleteOwned(ownerId, id)))
      throw new DomainError('NOT_FOUND', 'no such API key for this user');
    this.authenticator.forget(id);
  }
}

function invalid(path: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${path}: ${message}`, [{ path, message }]);
}
