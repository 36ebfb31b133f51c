import {
  type CommandPoll,
  DEVICE_HTTP_PATHS,
  decodeEnvelope,
  type Envelope,
  Limits,
  MessageCatalog,
  type TrustChain,
} from '@crema/protocol';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ApiDeps } from '../api/deps';
import type { HubApp } from '../api/env';
import { problemOf, problemResponse } from '../api/problem';
import { HubError } from '../errors';
import { keyStatements } from '../updates/keys/keyring';
import { artifactDownload } from './artifact-download';
import { registerClaimRoute } from './claim-route';
import { type DeviceEnv, deviceAuth } from './device-auth';
import { describeDeviceRoutes } from './http-routes-docs';

/** Every device endpoint sits under this prefix; the admin token check skips it (app.ts). */
const DEVICE_ROUTES = '/api/v1/device/*';

/** Non-record uplink messages accepted on the messages endpoint; records travel in a batch to `records`. */
const MESSAGE_TYPES = new Set(['birth', 'death', 'heartbeat', 'command_progress']);

/**
 * The device HTTP fallback (docs/protocol.md §8), for machines that cannot reach the broker. Authenticated
 * with the device credential (HTTP Basic), not the admin token; bodies are protocol envelopes whose
 * `deviceId` must be the authenticated device. Records go through the same ingest as MQTT and are answered
 * with the ack after commit. Described in the OpenAPI document by device-http-docs.ts; the protocol document
 * is their contract.
 */
export function register(app: HubApp, deps: ApiDeps): void {
  describeDeviceRoutes(app);
  const channel = deps.deviceChannel;
  const device = new Hono<DeviceEnv>();
  // First: a claiming machine has no credential yet, so its route answers before the credential check.
  registerClaimRoute(device, app, deps);
  if (!channel) {
    // An API built without a broker (tests, tools): the endpoints exist, but nothing behind them can serve.
    device.all(DEVICE_ROUTES, () => {
      throw new HubError('UNAVAILABLE', 'this hub has no device channel (no MQTT side)');
    });
    app.route('/', device);
    return;
  }
  device.use(DEVICE_ROUTES, deviceAuth(channel.db, channel.credentials.check));

  device.post(DEVICE_HTTP_PATHS.records, sizeLimit(Limits.largeMessageBytes), async (c) => {
    const envelope = await readEnvelope(c.req.raw, c.get('device').deviceId);
    if (envelope.type !== 'batch') {
      throw new HubError(
        'VALIDATION_FAILED',
        `records are posted as one batch envelope, not ${envelope.type}`,
      );
    }
    const ack = await channel.pushRecords(envelope);
    return c.json(ack, 200);
  });

  device.post(DEVICE_HTTP_PATHS.messages, sizeLimit(Limits.messageBytes), async (c) => {
    const envelope = await readEnvelope(c.req.raw, c.get('device').deviceId);
    if (!MESSAGE_TYPES.has(envelope.type)) {
      const hint =
        envelope.type === 'batch' || MessageCatalog[envelope.type].record ? ` (post to records)` : '';
      throw new HubError('VALIDATION_FAILED', `${envelope.type} is not accepted here${hint}`);
    }
    channel.pushMessage(envelope);
    return c.body(null, 202);
  });

  device.get(`${DEVICE_HTTP_PATHS.artifacts}/:sha256`, artifactDownload(deps.artifacts, deps.artifactUsage));

  device.get(DEVICE_HTTP_PATHS.trustKeys, async (c) => {
    const answer: TrustChain = { statements: (await keyStatements(deps.db.kysely)).map((s) => s.jws) };
    return c.json(answer, 200);
  });

  device.get(DEVICE_HTTP_PATHS.commands, async (c) => {
    const commands = await channel.poll(c.get('device').deviceId);
    const answer: CommandPoll = { commands };
    return c.json(answer, 200);
  });

  app.route('/', device);
}

function sizeLimit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      // The rest of the body is never read, so the server drops the socket after answering: tell the client,
      // or it reuses the socket for its next request and that one fails.
      return problemResponse(
        problemOf('MESSAGE_TOO_LARGE', `the body exceeds ${maxSize} bytes`, c.req.path),
        { connection: 'close' },
      );
    },
  });
}

/**
 * The body as an envelope, checked in the protocol's decoding order (size, JSON, version, header, type,
 * body, size of the type) and then against the authenticated device: a device speaks only for itself.
 */
async function readEnvelope(req: Request, deviceId: string): Promise<Envelope> {
  const decoded = decodeEnvelope(new Uint8Array(await req.arrayBuffer()));
  if (!decoded.ok) {
    throw new HubError(decoded.error.code, decoded.error.message.slice(0, 500));
  }
  if (decoded.value.deviceId !== deviceId) {
    throw new HubError('DEVICE_MISMATCH', `envelope of ${decoded.value.deviceId} sent by ${deviceId}`);
  }
  return decoded.value;
}
