import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { OrderService } from '../orders/order-service';
import type { Outbox } from '../store/outbox/types';
import { OUTBOX_CLASSES } from '../store/outbox/types';

export type DriverHealth = { brewer: boolean; payment: boolean; boards: { board: string; up: boolean }[] };

export type MetricsOptions = {
  orders: OrderService;
  outbox: Outbox;
  health: () => DriverHealth;
  /** Process CPU/memory/event-loop metrics; off in unit tests. */
  processMetrics?: boolean;
};

/** Prometheus metrics of one agent, in its own registry (never the global one). */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;

  constructor(options: MetricsOptions) {
    const r = this.registry;
    if (options.processMetrics) collectDefaultMetrics({ register: r, prefix: 'crema_agent_' });
    const orders = new Counter({
      name: 'crema_agent_orders_total',
      help: 'Orders finished, by result and error code',
      labelNames: ['result', 'code'],
      registers: [r],
    });
    const brews = new Counter({
      name: 'crema_agent_brews_total',
      help: 'Drinks started on the brewer, by recipe and result',
      labelNames: ['recipe', 'result'],
      registers: [r],
    });
    const failures = new Counter({
      name: 'crema_agent_brew_failures_total',
      help: 'Drinks that failed after the brew started, by error code',
      labelNames: ['code'],
      registers: [r],
    });
    new Gauge({
      name: 'crema_agent_outbox_depth',
      help: 'Records waiting for the hub, by class',
      labelNames: ['class'],
      registers: [r],
      collect() {
        const s = options.outbox.stats();
        for (const cls of OUTBOX_CLASSES) this.set({ class: cls }, s.byClass[cls]);
      },
    });
    new Gauge({
      name: 'crema_agent_outbox_bytes',
      help: 'Bytes held by the outbox',
      registers: [r],
      collect() {
        this.set(options.outbox.stats().bytes);
      },
    });
    new Gauge({
      name: 'crema_agent_outbox_dropped',
      help: 'Records dropped by the outbox disk bound since the ledger was created, by class',
      labelNames: ['class'],
      registers: [r],
      collect() {
        const s = options.outbox.stats();
        for (const cls of OUTBOX_CLASSES) this.set({ class: cls }, s.dropped[cls]);
      },
    });
    new Gauge({
      name: 'crema_agent_driver_up',
      help: '1 when the driver link is up',
      labelNames: ['driver'],
      registers: [r],
      collect() {
        const h = options.health();
        this.set({ driver: 'brewer' }, h.brewer ? 1 : 0);
        this.set({ driver: 'payment' }, h.payment ? 1 : 0);
        for (const b of h.boards) this.set({ driver: `board:${b.board}` }, b.up ? 1 : 0);
      },
    });
    // Orders that reached the brewer; a brew is counted once, when its order leaves `brewing`.
    const brewing = new Set<string>();
    this.unsubscribe = options.orders.onUpdate(({ order, progress }) => {
      if (progress) return;
      if (order.state === 'brewing') {
        brewing.add(order.id);
        return;
      }
      if (brewing.delete(order.id)) {
        const ok = order.dispensedAt !== undefined;
        brews.inc({ recipe: order.recipeId, result: ok ? 'ok' : 'failed' });
        if (!ok) failures.inc({ code: order.code ?? 'BREW_FAILED' });
      }
      if (order.state === 'completed') orders.inc({ result: 'completed', code: '' });
      if (order.state === 'failed') orders.inc({ result: 'failed', code: order.code ?? '' });
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}
