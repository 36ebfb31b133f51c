import { sql } from 'kysely';
import type { Db } from '../db/connect';
import { HubError } from '../errors';

export interface TelemetryQuery {
  deviceId: string;
  from: number;
  to: number;
  /** Only these metrics (all when empty). */
  metrics?: string[];
  /** Bucket width for downsampling; raw samples when absent. */
  bucketMs?: number;
  /** Most points returned (raw samples or buckets). */
  limit?: number;
}

export type TelemetrySeries =
  | { kind: 'raw'; points: { metric: string; ts: number; value: number }[]; truncated: boolean }
  | {
      kind: 'buckets';
      bucketMs: number;
      points: { metric: string; ts: number; avg: number; min: number; max: number; count: number }[];
      truncated: boolean;
    };

export const TELEMETRY_MAX_POINTS = 10_000;
/** Buckets narrower than this would just be the raw samples again, at a higher cost. */
export const TELEMETRY_MIN_BUCKET_MS = 1000;

/** Telemetry of one device in `[from, to)`, raw or downsampled into buckets with avg/min/max/count. */
export async function queryTelemetry(db: Db, q: TelemetryQuery): Promise<TelemetrySeries> {
  if (!(q.to > q.from)) throw new HubError('VALIDATION_FAILED', '`to` must be after `from`');
  const limit = Math.min(q.limit ?? TELEMETRY_MAX_POINTS, TELEMETRY_MAX_POINTS);
  let base = db.kysely
    .selectFrom('telemetry_samples')
    .where('device_id', '=', q.deviceId)
    .where('ts', '>=', q.from)
    .where('ts', '<', q.to);
  if (q.metrics && q.metrics.length > 0) base = base.where('metric', 'in', q.metrics);

  if (q.bucketMs === undefined) {
    const rows = await base
      .select(['metric', 'ts', 'value'])
      .orderBy('metric')
      .orderBy('ts')
      .limit(limit + 1)
      .execute();
    return { kind: 'raw', points: rows.slice(0, limit), truncated: rows.length > limit };
  }
  const bucketMs = Math.trunc(q.bucketMs);
  if (!Number.isSafeInteger(bucketMs) || bucketMs < TELEMETRY_MIN_BUCKET_MS) {
    throw new HubError('VALIDATION_FAILED', `bucketMs must be an integer ≥ ${TELEMETRY_MIN_BUCKET_MS}`);
  }
  // A literal (validated integer), so the SELECT and GROUP BY expressions are textually identical for
  // PostgreSQL; integer division on both backends because ts is an integer column.
  const bucket = sql<number>`(ts / ${sql.lit(bucketMs)}) * ${sql.lit(bucketMs)}`;
  const rows = await base
    .select((eb) => [
      'metric',
      bucket.as('bucket'),
      eb.fn.avg<number>('value').as('avg'),
      eb.fn.min<number>('value').as('min'),
      eb.fn.max<number>('value').as('max'),
      eb.fn.countAll<number>().as('count'),
    ])
    .groupBy(['metric', bucket])
    .orderBy('metric')
    .orderBy('bucket')
    .limit(limit + 1)
    .execute();
  return {
    kind: 'buckets',
    bucketMs,
    points: rows.slice(0, limit).map((r) => ({
      metric: r.metric,
      ts: Number(r.bucket),
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      count: Number(r.count),
    })),
    truncated: rows.length > limit,
  };
}
