import { sql } from 'kysely';
import { z } from 'zod';
import type { OpsContext } from '../context';

/**
 * A machine's audit counters, computed from what the hub stored: a vend is an order the machine reported
 * `completed`; paid vends are card orders (valued at the order's price), free vends are the service mode's
 * `free_vend` orders (amount 0); cashless is the money captured by the card terminal; refunds are the hub's.
 * Counters are cumulative ("since init", from the machine's first order); the other periods are differences
 * of two cumulative snapshots (see migration 0019).
 */
const TallySchema = z.object({ count: z.number().int(), value: z.number().int() });
export type Tally = z.infer<typeof TallySchema>;

/** One product at one price, as a DEX PA1/PA2 pair: a drink sold at two prices is two lines. */
const CounterLineSchema = z.object({
  recipeId: z.string(),
  size: z.string(),
  price: z.number().int(),
  paid: TallySchema,
  free: TallySchema,
});
export type CounterLine = z.infer<typeof CounterLineSchema>;

export const CounterTotalsSchema = z.object({
  /** The currency counted (the one most of the machine's vends were in); null before its first vend. */
  currency: z.string().nullable(),
  paid: TallySchema,
  free: TallySchema,
  card: TallySchema,
  refunds: TallySchema,
  lines: z.array(CounterLineSchema),
});
export type CounterTotals = z.infer<typeof CounterTotalsSchema>;

const zero = (): Tally => ({ count: 0, value: 0 });

export function emptyTotals(currency: string | null = null): CounterTotals {
  return { currency, paid: zero(), free: zero(), card: zero(), refunds: zero(), lines: [] };
}

const lineKey = (l: Pick<CounterLine, 'recipeId' | 'size' | 'price'>) =>
  `${l.recipeId}\u0000${l.size}\u0000${l.price}`;

const minus = (a: Tally, b: Tally | undefined): Tally => ({
  count: a.count - (b?.count ?? 0),
  value: a.value - (b?.value ?? 0),
});

/**
 * `now − base`: the counters of the period since `base` was taken. A base in another currency (the machine's
 * price list changed currency) counts as empty, so the period shows everything in the current one.
 */
export function difference(now: CounterTotals, base: CounterTotals | undefined): CounterTotals {
  const b = base && base.currency === now.currency ? base : emptyTotals(now.currency);
  const baseLines = new Map(b.lines.map((l) => [lineKey(l), l]));
  return {
    currency: now.currency,
    paid: minus(now.paid, b.paid),
    free: minus(now.free, b.free),
    card: minus(now.card, b.card),
    refunds: minus(now.refunds, b.refunds),
    lines: now.lines.map((l) => {
      const old = baseLines.get(lineKey(l));
      return { ...l, paid: minus(l.paid, old?.paid), free: minus(l.free, old?.free) };
    }),
  };
}

/**
 * Cumulative counters of each listed device (devices without orders get empty counters); with `asOf`, as they
 * stood then by the records' own times (the demo generator dates its reads in the past).
 */
export async function cumulativeCounters(
  ctx: OpsContext,
  deviceIds: readonly string[],
  asOf?: number,
): Promise<Map<string, CounterTotals>> {
  const out = new Map<string, CounterTotals>();
  if (deviceIds.length === 0) return out;
  const ids = [...deviceIds];
  const until = asOf ?? 0;
  const dated = asOf !== undefined;
  const [vends, captured, refunds] = await Promise.all([
    ctx.db
      .selectFrom('orders')
      .select([
        'device_id',
        'recipe_id',
        'size',
        'amount',
        'currency',
        'method',
        sql<number>`count(*)`.as('n'),
        sql<number>`coalesce(sum(amount), 0)`.as('total'),
      ])
      .where('device_id', 'in', ids)
      .where('status', '=', 'completed')
      .$if(dated, (q) => q.where('updated_at', '<=', until))
      .groupBy(['device_id', 'recipe_id', 'size', 'amount', 'currency', 'method'])
      .execute(),
    ctx.db
      .selectFrom('payments')
      .select([
        'device_id',
        'currency',
        sql<number>`count(*)`.as('n'),
        sql<number>`coalesce(sum(amount), 0)`.as('total'),
      ])
      .where('device_id', 'in', ids)
      .where('status', '=', 'captured')
      .$if(dated, (q) => q.where('updated_at', '<=', until))
      .groupBy(['device_id', 'currency'])
      .execute(),
    ctx.db
      .selectFrom('refunds')
      .select([
        'device_id',
        'currency',
        sql<number>`count(*)`.as('n'),
        sql<number>`coalesce(sum(amount), 0)`.as('total'),
      ])
      .where('device_id', 'in', ids)
      .$if(dated, (q) => q.where('created_at', '<=', until))
      .groupBy(['device_id', 'currency'])
      .execute(),
  ]);

  // The counted currency: the one with the most vends (a machine normally only ever sells in one).
  const perCurrency = new Map<string, Map<string, number>>();
  for (const v of vends) {
    const counts = perCurrency.get(v.device_id) ?? new Map<string, number>();
    counts.set(v.currency, (counts.get(v.currency) ?? 0) + Number(v.n));
    perCurrency.set(v.device_id, counts);
  }
  for (const id of ids) {
    const counts = [...(perCurrency.get(id) ?? new Map<string, number>())].sort(
      (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
    );
    out.set(id, emptyTotals(counts[0]?.[0] ?? null));
  }

  const lines = new Map<string, CounterLine>();
  for (const v of vends) {
    const totals = out.get(v.device_id);
    if (!totals || totals.currency !== v.currency) continue;
    const tally = { count: Number(v.n), value: Number(v.total) };
    const price = Number(v.amount);
    const key = `${v.device_id}\u0000${lineKey({ recipeId: v.recipe_id, size: v.size, price })}`;
    let line = lines.get(key);
    if (!line) {
      line = { recipeId: v.recipe_id, size: v.size, price, paid: zero(), free: zero() };
      lines.set(key, line);
      totals.lines.push(line);
    }
    const bucket = v.method === 'free_vend' ? 'free' : 'paid';
    add(line[bucket], tally);
    add(totals[bucket], tally);
  }
  for (const p of captured) {
    const totals = out.get(p.device_id);
    if (totals?.currency === p.currency) add(totals.card, { count: Number(p.n), value: Number(p.total) });
  }
  for (const r of refunds) {
    const totals = out.get(r.device_id);
    if (totals?.currency === r.currency) add(totals.refunds, { count: Number(r.n), value: Number(r.total) });
  }
  for (const totals of out.values()) {
    totals.lines.sort(
      (a, b) => a.recipeId.localeCompare(b.recipeId) || a.size.localeCompare(b.size) || a.price - b.price,
    );
  }
  return out;
}

function add(into: Tally, t: Tally): void {
  into.count += t.count;
  into.value += t.value;
}
