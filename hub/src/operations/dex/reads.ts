import type { OpsContext } from '../context';
import { type CounterTotals, CounterTotalsSchema } from './counters';

export type DexReadKind = 'read' | 'reset';

export interface DexReadView {
  id: string;
  deviceId: string;
  kind: DexReadKind;
  createdBy: string;
  createdAt: number;
}

/** Where a machine's periods start: its latest read or reset, its latest reset, and how many of each. */
export interface Baselines {
  /** The latest read or reset: the start of "since last read". */
  lastRead: (DexReadView & { counters: CounterTotals }) | undefined;
  /** The latest reset: the start of "since reset". */
  lastReset: (DexReadView & { counters: CounterTotals }) | undefined;
  reads: number;
  resets: number;
}

/** The baselines of each listed device. Ids are time-ordered ULIDs, so the greatest id is the latest row. */
export async function baselinesOf(
  ctx: OpsContext,
  deviceIds: readonly string[],
): Promise<Map<string, Baselines>> {
  const out = new Map<string, Baselines>();
  for (const id of deviceIds) out.set(id, { lastRead: undefined, lastReset: undefined, reads: 0, resets: 0 });
  if (deviceIds.length === 0) return out;
  const latest = await ctx.db
    .selectFrom('dex_reads')
    .select(['device_id', 'kind', (eb) => eb.fn.max('id').as('id'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('device_id', 'in', [...deviceIds])
    .groupBy(['device_id', 'kind'])
    .execute();
  const rowIds = latest.map((r) => r.id);
  const rows =
    rowIds.length === 0
      ? []
      : await ctx.db.selectFrom('dex_reads').selectAll().where('id', 'in', rowIds).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const l of latest) {
    const b = out.get(l.device_id);
    const row = byId.get(l.id);
    if (!b || !row) continue;
    const view = {
      id: row.id,
      deviceId: row.device_id,
      kind: row.kind as DexReadKind,
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      counters: CounterTotalsSchema.parse(JSON.parse(row.counters)),
    };
    if (row.kind === 'reset') {
      b.resets = Number(l.n);
      b.lastReset = view;
    } else b.reads = Number(l.n);
    if (!b.lastRead || view.id > b.lastRead.id) b.lastRead = view;
  }
  return out;
}

/** Records a read or reset with the counters it closes. */
export async function recordRead(
  ctx: OpsContext,
  row: {
    merchantId: string;
    deviceId: string;
    kind: DexReadKind;
    counters: CounterTotals;
    createdBy: string;
    /** When the read happened: now, unless the demo generator dates it in the past. */
    at?: number;
  },
): Promise<DexReadView> {
  const view: DexReadView = {
    id: ctx.newId(),
    deviceId: row.deviceId,
    kind: row.kind,
    createdBy: row.createdBy,
    createdAt: row.at ?? ctx.now(),
  };
  await ctx.db
    .insertInto('dex_reads')
    .values({
      id: view.id,
      merchant_id: row.merchantId,
      device_id: row.deviceId,
      kind: row.kind,
      counters: JSON.stringify(row.counters),
      created_by: row.createdBy,
      created_at: view.createdAt,
    })
    .execute();
  return view;
}
