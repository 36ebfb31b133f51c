import { DeviceIdSchema } from '@crema/protocol';
import type { MiddlewareHandler } from 'hono';
import { problemOf, problemResponse } from '../api/problem';
import { verifySecret } from '../auth/scrypt';
import type { Db } from '../db/connect';
import type { Authenticate } from '../mqtt/broker';

/** The device a request authenticated as. */
export interface DeviceIdentity {
  deviceId: string;
  merchantId: string;
}

export type DeviceEnv = { Variables: { device: DeviceIdentity } };

const CHALLENGE = 'Basic realm="crema-device", charset="UTF-8"';

/** `Authorization: Basic base64(deviceId:credential)` → its parts, or undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { user: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), secret: text.slice(colon + 1) };
}

/**
 * Device endpoints authenticate with the device's own credential (HTTP Basic: device id and credential),
 * checked by `check` (the hub passes `verifyDeviceCredential` behind a cache). Missing → 401 AUTH_REQUIRED;
 * wrong or unknown → 401 AUTH_INVALID_CREDENTIALS; the right credential of a revoked device → 403
 * DEVICE_REVOKED (only a caller holding the credential learns that it was revoked).
 */
export function deviceAuth(db: Db, check: Authenticate): MiddlewareHandler<DeviceEnv> {
  return async (c, next) => {
    const path = c.req.path;
    const basic = parseBasic(c.req.header('authorization'));
    if (!basic) return unauthorized('AUTH_REQUIRED', 'device id and credential required (HTTP Basic)', path);
    if (!DeviceIdSchema.safeParse(basic.user).success) {
      return unauthorized('AUTH_INVALID_CREDENTIALS', 'invalid device id or credential', path);
    }
    const device = await check(basic.user, basic.secret);
    if (!device) {
      if (await revokedWithThisSecret(db, basic.user, basic.secret)) {
        return problemResponse(problemOf('DEVICE_REVOKED', `device ${basic.user} is revoked`, path));
      }
      return unauthorized('AUTH_INVALID_CREDENTIALS', 'invalid device id or credential', path);
    }
    c.set('device', { deviceId: basic.user, merchantId: device.merchantId });
    await next();
    return undefined;
  };
}

function unauthorized(code: 'AUTH_REQUIRED' | 'AUTH_INVALID_CREDENTIALS', detail: string, path: string) {
  return problemResponse(problemOf(code, detail, path), { 'www-authenticate': CHALLENGE });
}

async function revokedWithThisSecret(db: Db, deviceId: string, secret: string): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('devices')
    .select(['credential_hash', 'revoked_at'])
    .where('id', '=', deviceId)
    .executeTakeFirst();
  return row !== undefined && row.revoked_at !== null && (await verifySecret(secret, row.credential_hash));
}
