import { sql } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import { PENDING } from '../commands/lifecycle';
import type { OpsContext } from './context';

const DAY_MS = 86_400_000;

/**
 * Operations gauges on the hub's registry, read from the store when Prometheus scrapes (so every hub
 * process reports the same truth): pending commands by status, bins needing service, orders today (UTC).
 */
export function registerOperationsMetrics(registry: Registry, ctx: OpsContext): void {
  new Gauge({
    name: 'crema_commands_pending',
    help: 'Commands not yet finished, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await ctx.db
        .selectFrom('commands')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', 'in', [...PENDING])
        .groupBy('status')
        .execute();
      this.reset();
      for (const s of PENDING) this.set({ status: s }, Number(rows.find((r) => r.status === s)?.n ?? 0));
    },
  });
  new Gauge({
    name: 'crema_materials_low_bins',
    help: 'Material bins at or below their low threshold (waste bins at or above their high threshold)',
    registers: [registry],
    async collect() {
      const row = await ctx.db
        .selectFrom('material_bins')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('low_since', 'is not', null)
        .executeTakeFirstOrThrow();
      this.set(Number(row.n));
    },
  });
  new Gauge({
    name: 'crema_orders_today',
    help: 'Orders created since midnight UTC, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const since = Math.floor(ctx.now() / DAY_MS) * DAY_MS;
      const rows = await ctx.db
        .selectFrom('orders')
        .select(['status', sql<number>`count(*)`.as('n')])
        .where('created_at', '>=', since)
        .groupBy('status')
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
}
