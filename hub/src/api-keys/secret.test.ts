import { describe, expect, it } from 'vitest';
import { formatApiKey, hashApiKeySecret, newApiKeySecret, parseApiKey, secretMatches } from './secret';

const ID = '01JDEMX0000000000000000000';

describe('API key secret', () => {
  it('round-trips the recognisable format with 256 random bits', () => {
    const secret = newApiKeySecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(newApiKeySecret()).not.toBe(secret);
    expect(parseApiKey(formatApiKey(ID, secret))).toEqual({ id: ID, secret });
  });

  it('refuses anything not exactly of the format', () => {
    const secret = newApiKeySecret();
    for (const bad of [
      `crema_ak_${ID}`,
      `crema_ak_${ID}_${secret}x`,
      `crema_ak_${ID.toLowerCase()}_${secret}`,
      `crema_ak_${ID}_${secret.slice(1)}`,
      `xcrema_ak_${ID}_${secret}`,
      `crema_ak_${ID}_${secret}\n`,
    ])
      expect(parseApiKey(bad), bad).toBeNull();
  });

  it('stores a hash that matches only its own secret', () => {
    const secret = newApiKeySecret();
    const stored = hashApiKeySecret(secret);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(newApiKeySecret(), stored)).toBe(false);
    expect(secretMatches(secret, 'not-hex')).toBe(false);
  });
});
