import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { HubError } from '../../errors';
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
/** Open streams one user may hold on one hub process (tabs, consoles); more is a leak or an attack. */
export const MAX_STREAMS_PER_USER = 5;

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
    ...problemResponses(401, 403, 429),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const openPerUser = new Map<string, number>();
  app.openapi(stream, (c) => {
    const ops = deps.operations;
    const { scope } = callerOf(c);
    const session = c.get('session');
    const userId = session.principal.userId;
    const held = openPerUser.get(userId) ?? 0;
    if (held >= MAX_STREAMS_PER_USER)
      throw new HubError('RATE_LIMITED', `at most ${MAX_STREAMS_PER_USER} open event streams per user`);
    openPerUser.set(userId, held + 1);
    const release = () => {
      const n = (openPerUser.get(userId) ?? 1) - 1;
      if (n <= 0) openPerUser.delete(userId);
      else openPerUser.set(userId, n);
    };
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
      // The stream lives no longer than its token and its session: it closes at the token's expiry, at once
      // when this process ends the user's sessions, and within a recheck when another process does.
      const untilExpiry = Math.min(2 ** 31 - 1, Math.max(0, session.expiresAt - timers.now()));
      const expiry = timers.setTimeout(close, untilExpiry);
      const offEnded = deps.sessions.onEnded((ended) => {
        if (ended === userId) close();
      });
      let recheck = timers.setTimeout(function check() {
        deps.sessions.isCurrent(session).then(
          (current) => {
            if (!current || session.expiresAt <= timers.now()) close();
            else if (open) recheck = timers.setTimeout(check, deps.sessions.recheckMs);
          },
          () => close(),
        );
      }, deps.sessions.recheckMs);
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
        offEnded();
        release();
        if (until) timers.clearTimeout(until);
        timers.clearTimeout(expiry);
        timers.clearTimeout(recheck);
        timers.clearTimeout(keepalive);
      }
    }) as never;
  });
}
