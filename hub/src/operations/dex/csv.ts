import { csvCell } from '@crema/protocol';
import { stringify } from 'csv-stringify/sync';
import type { Scope } from '../context';
import type { CounterLine, CounterTotals, Tally } from './counters';
import type { CounterFilter, DeviceCounters, DexService } from './service';

const PERIODS = ['sinceInit', 'sinceReset', 'sinceRead'] as const;
const FIGURES = [
  'paidCount',
  'paidValue',
  'freeCount',
  'cardCount',
  'cardValue',
  'refundCount',
  'refundValue',
];

export const COUNTER_CSV_COLUMNS = [
  'deviceId',
  'merchantId',
  'locationId',
  'currency',
  'lastReadAt',
  'lastResetAt',
  /** `machine` (its totals) or `product` (one product at one price). */
  'row',
  'recipeId',
  'size',
  'price',
  ...PERIODS.flatMap((p) => FIGURES.map((f) => `${p}.${f}`)),
];

const PAGE = 200;
const empty: Tally = { count: 0, value: 0 };

/**
 * The fleet's audit counters as CSV, streamed a page of machines at a time: per machine one `machine` row with
 * its totals (cashless and refunds included), then one `product` row per product and price.
 */
export async function* countersCsv(
  dex: DexService,
  scope: Scope,
  filter: Omit<CounterFilter, 'limit' | 'offset'>,
): AsyncGenerator<string> {
  yield stringify([COUNTER_CSV_COLUMNS]);
  for (let offset = 0; ; offset += PAGE) {
    const page = await dex.list(scope, { ...filter, limit: PAGE, offset });
    const rows: string[][] = [];
    for (const d of page.items) {
      rows.push(
        row(
          d,
          'machine',
          undefined,
          PERIODS.map((p) => machineFigures(d[p])),
        ),
      );
      for (const line of d.sinceInit.lines) {
        const figures = PERIODS.map((p) => lineFigures(findLine(d[p], line)));
        rows.push(row(d, 'product', line, figures));
      }
    }
    if (rows.length > 0) yield stringify(rows);
    if (offset + PAGE >= page.total || page.items.length === 0) return;
  }
}

function row(d: DeviceCounters, kind: string, line: CounterLine | undefined, figures: number[][]): string[] {
  const head = [
    d.deviceId,
    d.merchantId,
    d.locationId,
    d.currency,
    d.lastReadAt,
    d.lastResetAt,
    kind,
    line?.recipeId ?? '',
    line?.size ?? '',
    line?.price ?? '',
  ];
  return [...head, ...figures.flat()].map((v) => csvCell(v));
}

function machineFigures(t: CounterTotals): number[] {
  return [
    t.paid.count,
    t.paid.value,
    t.free.count,
    t.card.count,
    t.card.value,
    t.refunds.count,
    t.refunds.value,
  ];
}

function lineFigures(l: CounterLine | undefined): number[] {
  const paid = l?.paid ?? empty;
  return [paid.count, paid.value, l?.free.count ?? 0, 0, 0, 0, 0];
}

function findLine(t: CounterTotals, line: CounterLine): CounterLine | undefined {
  return t.lines.find((l) => l.recipeId === line.recipeId && l.size === line.size && l.price === line.price);
}
