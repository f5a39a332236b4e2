import { maskPushToken } from '@/infra/logging/logging.module';
import { apiKeyHash } from '@/modules/api-keys/api-key.secret';
import { generatePushToken, looksLikePushToken, pushTokenHash } from '@/modules/push/push-token';

describe('push tokens', () => {
  it('are 256 random bits in base64url, each new', () => {
    const tokens = new Set(Array.from({ length: 100 }, generatePushToken));
    expect(tokens.size).toBe(100);
    for (const t of tokens) {
      expect(looksLikePushToken(t)).toBe(true);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
    for (const bad of [
      '',
      'abc',
      `${[...tokens][0]}x`,
      'a'.repeat(42) + '/',
      'uk_' + 'a'.repeat(41),
    ])
      expect(looksLikePushToken(bad)).toBe(false);
  });

  it('are stored as a keyed hash, never the API key hash of the same text', () => {
    const t = generatePushToken();
    const pepper = 'p'.repeat(32);
    expect(pushTokenHash(pepper, t)).toEqual(pushTokenHash(pepper, t));
    expect(pushTokenHash(pepper, t)).toHaveLength(32);
    expect(pushTokenHash('q'.repeat(32), t)).not.toEqual(pushTokenHash(pepper, t));
    expect(pushTokenHash(pepper, t)).not.toEqual(apiKeyHash(pepper, t));
  });

  it('never reach the request log: the beat route is masked', () => {
    const t = generatePushToken();
    expect(maskPushToken(`/api/push/${t}`)).toBe('/api/push/[redacted]');
    expect(maskPushToken(`/api/push/${t}/extra`)).toBe('/api/push/[redacted]/extra');
    expect(maskPushToken('/api/websites/1')).toBe('/api/websites/1');
    expect(maskPushToken(undefined)).toBeUndefined();
  });
});
