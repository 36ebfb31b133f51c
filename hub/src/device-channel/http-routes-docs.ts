import {
  AckSchema,
  BatchSchema,
  CommandPollSchema,
  DEVICE_HTTP_PATHS,
  EnvelopeHeaderSchema,
  PROTOCOL_VERSION,
  TrustChainSchema,
} from '@crema/protocol';
import { z } from '@hono/zod-openapi';
import type { HubApp } from '../api/env';
import { problemResponses } from '../api/problem';
import { jsonBody, jsonContent } from '../api/schemas';

const tags = ['device'];
const security = [{ deviceBasic: [] }];
const errors = problemResponses(400, 401, 403, 413);

// The parts are the protocol's own schemas (plain zod, without `.openapi`: the outer objects carry the names);
// the per-type body tables live in docs/protocol.md §6.
const header = EnvelopeHeaderSchema.shape;
const BatchEnvelopeSchema = z
  .object({ ...header, type: z.literal('batch'), body: BatchSchema })
  .openapi('DeviceBatchEnvelope', {
    description: `A \`batch\` envelope (protocol ${PROTOCOL_VERSION}, docs/protocol.md §5)`,
  });
const MessageEnvelopeSchema = z
  .object({
    ...header,
    type: z.enum(['birth', 'death', 'heartbeat', 'command_progress']),
    body: z.record(z.string(), z.unknown()),
  })
  .openapi('DeviceMessageEnvelope', {
    description: 'A non-record uplink envelope; its body by type in docs/protocol.md §6',
  });
const DeviceAckSchema = z.object(AckSchema.shape).openapi('DeviceAck');
const CommandPollAnswerSchema = z.object(CommandPollSchema.shape).openapi('DeviceCommandPoll');

/**
 * Adds the device HTTP fallback (docs/protocol.md §8) to the OpenAPI document. Documentation only: the
 * handlers and their checks are in http-routes.ts. They authenticate with the device credential (HTTP Basic),
 * not the admin bearer token.
 */
export function describeDeviceRoutes(app: HubApp): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'deviceBasic', {
    type: 'http',
    scheme: 'basic',
    description: 'Device id as user name, device credential as password',
  });
  registry.registerPath({
    method: 'post',
    path: DEVICE_HTTP_PATHS.records,
    tags,
    security,
    summary: 'Device: upload records as one batch; answered with the ack after they are stored',
    request: { body: jsonBody(BatchEnvelopeSchema) },
    responses: {
      200: jsonContent(DeviceAckSchema, 'Stored ids and rejected ids with their codes'),
      ...errors,
      ...problemResponses(503),
    },
  });
  registry.registerPath({
    method: 'post',
    path: DEVICE_HTTP_PATHS.messages,
    tags,
    security,
    summary: 'Device: send a birth, death, heartbeat or command progress',
    request: { body: jsonBody(MessageEnvelopeSchema) },
    responses: { 202: { description: 'Accepted' }, ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: DEVICE_HTTP_PATHS.commands,
    tags,
    security,
    summary: 'Device: pending commands for the authenticated device',
    responses: {
      200: jsonContent(CommandPollAnswerSchema, 'Pending commands (at most 100)'),
      ...problemResponses(401, 403),
    },
  });
  registry.registerPath({
    method: 'get',
    path: `${DEVICE_HTTP_PATHS.artifacts}/{sha256}`,
    tags,
    security,
    summary: 'Device: download an update artifact offered to it (Range resumes)',
    description:
      '`Range: bytes=N-`, `N-M` or `-N` → 206 with `Content-Range`; a range past the end → 416 ' +
      'RANGE_NOT_SATISFIABLE; `ETag` is the quoted sha256 (`If-Range` honoured). 404 unless a rollout offers ' +
      'the artifact to this device.',
    request: { params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) },
    responses: {
      200: { description: 'The artifact', content: { 'application/octet-stream': { schema: z.string() } } },
      206: {
        description: 'The requested range',
        content: { 'application/octet-stream': { schema: z.string() } },
      },
      ...problemResponses(401, 403, 404, 416),
    },
  });
  registry.registerPath({
    method: 'get',
    path: DEVICE_HTTP_PATHS.trustKeys,
    tags,
    security,
    summary: "Device: every key statement of the hub's signing keys, oldest first (docs/protocol.md §15)",
    responses: {
      200: jsonContent(z.object(TrustChainSchema.shape).openapi('DeviceTrustChain'), 'The chain'),
      ...problemResponses(401, 403),
    },
  });
}
