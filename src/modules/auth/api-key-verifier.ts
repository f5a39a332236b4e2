/**
 * The port through which UserTokenGuard accepts API keys beside JWTs. The api-keys module
 * provides it; the auth module only knows that a bearer token with API_KEY_PREFIX is a key.
 */
export const API_KEY_PREFIX = 'uk_';

export type ApiKeyScope = 'read' | 'write';

export interface ApiKeyPrincipal {
  keyId: string;
  ownerId: string;
  ownerEmail: string;
  scope: ApiKeyScope;
  /** the owner's current token version: what long-lived streams re-check for revocation */
  ownerTokenVersion: number;
  /** epoch ms, or undefined for a key without expiry */
  expiresAt?: number;
}

export abstract class ApiKeyVerifier {
  /** The key's owner and scope, or null for an unknown, expired or revoked key. */
  abstract verify(presented: string): Promise<ApiKeyPrincipal | null>;
  /** Of these key ids, those still present (not revoked); long-lived streams re-check with it. */
  abstract stillPresent(keyIds: readonly string[]): Promise<Set<string>>;
}
