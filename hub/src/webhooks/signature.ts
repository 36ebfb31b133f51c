import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Header names of a delivery (documented in hub/README.md, "Webhooks"). */
export const WEBHOOK_HEADERS = {
  id: 'crema-webhook-id',
  timestamp: 'crema-webhook-timestamp',
  signature: 'crema-webhook-signature',
} as const;

/** A fresh subscription secret: 32 random bytes, prefixed so it is recognisable in a leak scan. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * `v1=` + hex HMAC-SHA256 over `<timestamp>.<body>` (timestamp in epoch seconds): the receiver recomputes it
 * with the subscription secret and refuses a timestamp too far from its clock, so a captured delivery cannot
 * be replayed later.
 */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/** The receiver's check (used by the tests and documented for integrators). */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string; signature: string },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
