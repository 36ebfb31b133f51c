import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { AgentError } from '../errors';
import type { OrderService, OrderUpdate } from '../orders/order-service';
import { CreateOrderSchema, type Order } from '../orders/types';
import { readJson } from './errors';

/** States after which an order's progress stream ends (voiding: the customer's part is over). */
const STREAM_END = new Set<Order['state']>(['completed', 'failed', 'voiding']);

export function orderRoutes(orders: OrderService): Hono {
  const app = new Hono();

  // Paying is part of creating: the order starts at once (card: the terminal asks for the card).
  app.post('/', async (c) => {
    const parsed = CreateOrderSchema.safeParse(await readJson(c));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AgentError('VALIDATION_FAILED', `${issue?.path.join('.') || 'body'}: ${issue?.message}`);
    }
    const order = orders.create(parsed.data);
    return c.json({ order }, 202, { Location: `/orders/${order.id}` });
  });

  app.get('/:id', (c) => {
    const order = orders.get(c.req.param('id'));
    if (!order) throw new AgentError('NOT_FOUND', `no order ${c.req.param('id')}`);
    return c.json({ order });
  });

  app.post('/:id/abort', (c) => c.json({ order: orders.abort(c.req.param('id')) }, 202));

  app.get('/:id/events', (c) => {
    const id = c.req.param('id');
    const first = orders.get(id);
    if (!first) throw new AgentError('NOT_FOUND', `no order ${id}`);
    return streamSSE(c, async (stream) => {
      const queue: OrderUpdate[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = orders.subscribe(id, (u) => {
        queue.push(u);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      let eventId = 0;
      const send = (u: OrderUpdate) =>
        stream.writeSSE({
          id: String(++eventId),
          event: u.progress ? 'progress' : 'state',
          data: JSON.stringify(
            u.progress ? { order: u.order.id, state: u.order.state, ...u.progress } : { order: u.order },
          ),
        });
      // Re-read after subscribing so that no change between the two is missed.
      let last: Order = orders.get(id) ?? first;
      await send({ order: last });
      while (!STREAM_END.has(last.state) && !stream.aborted) {
        if (queue.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        for (const u of queue.splice(0)) {
          await send(u);
          last = u.order;
        }
      }
      unsubscribe();
    });
  });

  return app;
}
