import {
  ClaimAnswerSchema,
  ClaimRequestSchema,
  DEVICE_HTTP_PATHS,
  DeviceIdSchema,
  IdSchema,
  Limits,
  SemverSchema,
} from '@crema/protocol';
import { z } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { clientIp } from '../api/client-ip';
import type { ApiDeps } from '../api/deps';
import type { HubApp } from '../api/env';
import { problemResponses } from '../api/problem';
import { jsonBody, jsonContent } from '../api/schemas';
import { DeviceClaims } from '../devices/claim';
import { HubError } from '../errors';
import type { DeviceEnv } from './device-auth';

/**
 * `POST /api/v1/device/claim` (docs/protocol.md §2 "Claim codes"): the one device endpoint without a device
 * credential, since the machine has none yet. Registered on the device router before its credential check.
 * It needs no broker: the device row and credential are all it writes.
 */
export function registerClaimRoute(device: Hono<DeviceEnv>, app: HubApp, deps: ApiDeps): void {
  describe(app);
  const claims = new DeviceClaims({
    db: deps.db.kysely,
    clock: deps.clock,
    audit: deps.audit,
    deviceSessions: deps.deviceSessions,
  });
  const log = deps.logger.child({ ns: 'hub:device-claim' });
  const limit = bodyLimit({
    maxSize: Limits.messageBytes,
    onError: () => {
      throw new HubError('PAYLOAD_TOO_LARGE', `the body exceeds ${Limits.messageBytes} bytes`);
    },
  });
  device.post(DEVICE_HTTP_PATHS.claim, limit, async (c) => {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new HubError('MALFORMED_JSON', 'the body is not JSON');
    }
    const parsed = ClaimRequestSchema.safeParse(json);
    if (!parsed.success)
      throw new HubError('VALIDATION_FAILED', 'The input does not match its schema', {
        details: parsed.error,
      });
    const ip = clientIp(c);
    try {
      const answer = await claims.claim(parsed.data, ip);
      log.info({ deviceId: answer.deviceId, merchantId: answer.merchantId, ip }, 'device claimed');
      return c.json(answer, 201);
    } catch (err) {
      // Operators see refused claims (a mistyped code, a probe) in the hub's log; the caller learns nothing more.
      if (err instanceof HubError && err.code !== 'RATE_LIMITED')
        log.warn({ code: err.code, deviceId: parsed.data.deviceId, ip }, 'claim refused');
      throw err;
    }
  });
}

/** The request as documented: the code as typed (the protocol's schema canonicalises it). */
const RequestDocSchema = z
  .object({
    code: z.string().max(64).openapi({ example: '7K3M-QX2A-9PZR-D4HT' }),
    deviceId: DeviceIdSchema,
    model: IdSchema,
    firmwareVersion: SemverSchema.optional(),
  })
  .openapi('DeviceClaimRequest');

function describe(app: HubApp): void {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: DEVICE_HTTP_PATHS.claim,
    tags: ['device'],
    security: [],
    summary: 'Device: trade a one-time claim code for registration and the device credential (shown once)',
    description:
      'No credential: the machine has none yet. Every unusable code answers 403 CLAIM_CODE_INVALID alike; ' +
      'a taken device id 409 CONFLICT (the code stays usable); attempts are limited per address and ' +
      'platform-wide (429 RATE_LIMITED with Retry-After).',
    request: { body: jsonBody(RequestDocSchema) },
    responses: {
      201: jsonContent(z.object(ClaimAnswerSchema.shape).openapi('DeviceClaimAnswer'), 'Registered'),
      ...problemResponses(400, 403, 409, 413, 429),
    },
  });
}
