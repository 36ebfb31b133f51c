import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { inScope } from '../../operations/context';
import type { OpsEvent } from '../../operations/events/bus';
import { callerOf } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';

/** Events a client may fall behind by before the stream is closed (it reconnects and re-reads state). */
const MAX_QUEUED = 1000;
const KEEPALIVE_MS = 15_000;

const stream = createRoute({
  method: 'get',
  path: '/api/v1/events',
  tags: ['events'],
  summary:
    "Live fleet and operations events of the caller's merchant (Server-Sent Events): device online/offline, orders, payments, alarms, stock, commands, work orders, refunds",
  middleware: requirePermission('device:read'),
  request: {
    query: z.object({
      types: z
        .string()
        .max(500)
        .optional()
        .openapi({ description: 'Comma-separated event type prefixes, e.g. alarm.,command.' }),
      durationMs: z.coerce
        .number()
        .int()
        .min(1)
        .max(3_600_000)
        .optional()
        .openapi({ description: 'Close the stream after this long' }),
    }),
  },
  responses: {
    200: {
      description: 'An event stream; the first event is `ready`',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problemResponses(401, 403),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  app.openapi(stream, (c) => {
    const ops = deps.operations;
    const { scope } = callerOf(c);
    const { types, durationMs } = c.req.valid('query');
    const prefixes = types
      ? types
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : [];
    const wanted = (e: OpsEvent) =>
      (e.merchantId === null ? scope.merchantId === undefined : inScope(scope, e.merchantId)) &&
      (prefixes.length === 0 || prefixes.some((p) => e.type.startsWith(p)));
    return streamSSE(c, async (sse) => {
      const queue: OpsEvent[] = [];
      let wake: (() => void) | null = null;
      let open = true;
      const notify = () => {
        wake?.();
        wake = null;
      };
      const close = () => {
        open = false;
        notify();
      };
      const off = ops.bus.subscribe((e) => {
        if (!wanted(e)) return;
        if (queue.length >= MAX_QUEUED) close();
        else queue.push(e);
        notify();
      });
      const timers = deps.clock;
      const until = durationMs === undefined ? null : timers.setTimeout(close, durationMs);
      let keepalive = timers.setTimeout(function tick() {
        void sse.write(': keep-alive\n\n');
        keepalive = timers.setTimeout(tick, KEEPALIVE_MS);
      }, KEEPALIVE_MS);
      sse.onAbort(close);
      let id = 0;
      try {
        await sse.writeSSE({
          event: 'ready',
          data: JSON.stringify({ merchantId: scope.merchantId ?? null }),
        });
        while (open) {
          const next = queue.shift();
          if (next) {
            await sse.writeSSE({ id: String(++id), event: next.type, data: JSON.stringify(next) });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        off();
        if (until) timers.clearTimeout(until);
        timers.clearTimeout(keepalive);
      }
    }) as never;
  });
}
