import { MetricNameSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DeviceRepository } from '../../devices/repository';
import { HubError } from '../../errors';
import { readDeviceState } from '../../fleet/state';
import { queryTelemetry, TELEMETRY_MAX_POINTS, TELEMETRY_MIN_BUCKET_MS } from '../../fleet/telemetry';
import { requirePermission } from '../../rbac/require-permission';
import { TenantScope } from '../../rbac/scope';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { DeviceIdParamSchema, jsonContent } from '../schemas';

const DAY_MS = 86_400_000;
const Timestamp = z.coerce.number().int().min(0).max(8.64e15);

const TelemetryQuerySchema = z.object({
  from: Timestamp.openapi({
    description: 'Start (inclusive), epoch ms; default: 24 h before `to`',
  }).optional(),
  to: Timestamp.openapi({ description: 'End (exclusive), epoch ms; default: now' }).optional(),
  metric: z
    .string()
    .max(1000)
    .optional()
    .openapi({ description: 'Comma-separated metric names, e.g. boiler_temp_c,pump_bar; default: all' }),
  bucketMs: z.coerce
    .number()
    .int()
    .min(TELEMETRY_MIN_BUCKET_MS)
    .max(31 * DAY_MS)
    .optional()
    .openapi({ description: 'Downsample into buckets of this width (avg/min/max/count); default: raw' }),
  limit: z.coerce.number().int().min(1).max(TELEMETRY_MAX_POINTS).default(TELEMETRY_MAX_POINTS),
});

const RawPoint = z.object({ metric: z.string(), ts: z.number().int(), value: z.number() });
const BucketPoint = z.object({
  metric: z.string(),
  ts: z.number().int().openapi({ description: 'Bucket start, epoch ms' }),
  avg: z.number(),
  min: z.number(),
  max: z.number(),
  count: z.number().int(),
});
const TelemetrySeriesSchema = z
  .object({
    deviceId: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    kind: z.enum(['raw', 'buckets']),
    bucketMs: z.number().int().optional(),
    points: z.array(z.union([RawPoint, BucketPoint])),
    truncated: z.boolean().openapi({ description: 'More points matched than `limit`' }),
  })
  .openapi('TelemetrySeries');

const DeviceStateSchema = z
  .record(z.string(), z.unknown())
  .nullable()
  .openapi('DeviceLatestState', { description: 'Null when the device never reached the hub' });

const tags = ['telemetry'];
const errors = problemResponses(400, 401, 403, 404);

const telemetry = createRoute({
  method: 'get',
  path: '/api/v1/devices/{id}/telemetry',
  tags,
  summary: 'Telemetry of one device over a time range, raw or downsampled',
  middleware: requirePermission('telemetry:read'),
  request: { params: DeviceIdParamSchema, query: TelemetryQuerySchema },
  responses: { 200: jsonContent(TelemetrySeriesSchema, 'Samples or buckets'), ...errors },
});

const state = createRoute({
  method: 'get',
  path: '/api/v1/devices/{id}/state',
  tags,
  summary: 'Latest fleet state: online, versions, sequence gaps, material levels, active alarms',
  middleware: requirePermission('device:read'),
  request: { params: DeviceIdParamSchema },
  responses: {
    200: jsonContent(z.object({ deviceId: z.string(), state: DeviceStateSchema }), 'State'),
    ...errors,
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  // The device row is read through the tenant scope first: another merchant's device is a 404.
  const visibleDevice = (c: Context<HubEnv>, id: string) =>
    new DeviceRepository(deps.db.kysely, new TenantScope(c.get('principal')), deps.clock).get(id);

  app.openapi(telemetry, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const device = await visibleDevice(c, id);
    const to = q.to ?? deps.clock.now();
    const from = q.from ?? to - DAY_MS;
    const metrics = q.metric
      ?.split(',')
      .map((m) => m.trim())
      .filter((m) => m.length > 0);
    const bad = metrics?.find((m) => !MetricNameSchema.safeParse(m).success);
    if (bad !== undefined) throw new HubError('VALIDATION_FAILED', `bad metric name ${bad.slice(0, 64)}`);
    const series = await queryTelemetry(deps.db, {
      deviceId: device.id,
      from,
      to,
      metrics,
      bucketMs: q.bucketMs,
      limit: q.limit,
    });
    return c.json({ deviceId: device.id, from, to, ...series }, 200);
  });

  app.openapi(state, async (c) => {
    const device = await visibleDevice(c, c.req.valid('param').id);
    return c.json({ deviceId: device.id, state: await readDeviceState(deps.db, device.id) }, 200);
  });
}
