import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, Registry } from 'prom-client';
import type { MetricsAccess } from '../config/hub-config';
import { problemOf, problemResponse } from './problem';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The hub's Prometheus registry. HTTP request count and latency are recorded here by route pattern (not raw
 * path, which would explode cardinality) and status; other parts (broker, ingest) add their own metrics
 * to `registry`.
 */
export class HubMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'crema_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'crema_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Defaults to open on the API port: what a hub on loopback does, and what tests use. */
  constructor(readonly access: MetricsAccess = { onApiPort: true }) {}

  /** A scrape: the exposition text, or 401 when a token is configured and the request lacks it. */
  async scrape(authorization: string | undefined): Promise<Response> {
    const token = this.access.token;
    if (token !== undefined) {
      const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
      // Compared as digests: equal length, constant time, whatever was sent.
      if (!timingSafeEqual(sha256(given), sha256(token))) {
        return problemResponse(problemOf('AUTH_REQUIRED', 'metrics need the metrics token', '/metrics'), {
          'www-authenticate': 'Bearer realm="metrics"',
        });
      }
    }
    return new Response(await this.registry.metrics(), {
      headers: { 'content-type': this.registry.contentType },
    });
  }

  middleware(): MiddlewareHandler {
    const { requests, duration } = this;
    // The labelled series of each method, route and status, found once: prom-client otherwise sorts and joins
    // the labels into its key on every inc and observe. Bounded like the series themselves (routes × statuses).
    const series = new Map<string, { count: () => void; time: (seconds: number) => void }>();
    const seriesOf = (method: string, route: string, status: number) => {
      const key = `${method} ${status} ${route}`;
      let found = series.get(key);
      if (!found) {
        const labels = { method, route, status: String(status) };
        const counter = requests.labels(labels);
        const histogram = duration.labels(labels);
        found = { count: () => counter.inc(), time: (seconds) => histogram.observe(seconds) };
        series.set(key, found);
      }
      return found;
    };
    return async function recordRequest(c, next) {
      const start = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? 'unmatched';
        const recorded = seriesOf(c.req.method, route, c.res.status);
        recorded.count();
        recorded.time(Number(process.hrtime.bigint() - start) / 1e9);
      }
    };
  }
}
