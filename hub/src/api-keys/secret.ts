import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The shape of an API key: `crema_ak_<key id>_<secret>`. The prefix makes a leaked key recognisable to secret
 * scanners and tells the hub, before any lookup, that a bearer credential is a key and not a JWT; the id finds
 * the row in one primary-key read; the secret is 256 random bits (base64url). Only its SHA-256 is stored: with
 * that much entropy a slow password hash would add cost and no safety.
 */
export const API_KEY_PREFIX = 'crema_ak_';
const SECRET_BYTES = 32;
/** A ULID (Crockford base32, 26 characters), then the base64url of 32 bytes (43 characters). */
const KEY_PATTERN = /^crema_ak_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export function newApiKeySecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function formatApiKey(id: string, secret: string): string {
  return `${API_KEY_PREFIX}${id}_${secret}`;
}

export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

/** The key id and secret of a well-formed key, or null. */
export function parseApiKey(key: string): { id: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : null;
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with the stored hash in time independent of where they differ. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKeySecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
