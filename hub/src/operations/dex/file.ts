import type { CounterLine, CounterTotals } from './counters';
import { dexCrc16 } from './crc';

/** What one DEX/UCS audit file says about one machine. */
export interface DexReport {
  device: { id: string; model: string; location: string | null };
  /** Time of this read, and the merchant's time zone its date and time are written in. */
  at: number;
  timeZone: string;
  /** Who reads (EA304): the user id. */
  readBy: string;
  sinceInit: CounterTotals;
  sinceReset: CounterTotals;
  sinceRead: CounterTotals;
  lastRead: { at: number; by: string } | undefined;
  /** Reads and resets recorded before this one. */
  reads: number;
  resets: number;
}

/** Sender id of DXS01 (10 characters in the standard). */
const SENDER = 'CREMA00001';

/**
 * Renders the audit file in EVA-DTS 6 style, CRLF line ends. Money is in minor units with ID4 saying where the
 * decimal point goes. DEX "since last reset" fields carry the counters since the last reset; the interval
 * since the last read has no standard field, so it goes in machine-specific MA5 segments (INTERVAL,
 * INTERVAL_PA), as do the hub's refunds (REFUNDS). G85 is the CRC of ST … the line before G85; SE01 counts
 * the segments from ST to SE inclusive.
 */
export function renderDex(r: DexReport): string {
  const currency = r.sinceInit.currency;
  const local = localParts(r.at, r.timeZone);
  const last = r.lastRead ? localParts(r.lastRead.at, r.timeZone) : undefined;
  const init = r.sinceInit;
  const reset = r.sinceReset;
  const read = r.sinceRead;
  const resetLines = new Map(reset.lines.map((l) => [lineId(l), l]));
  const readLines = new Map(read.lines.map((l) => [lineId(l), l]));

  const body: (string | number)[][] = [
    ['ST', '001', '0001'],
    ['ID1', r.device.id, r.device.model, '', r.device.location ?? ''],
    ['ID4', minorDigits(currency), currency ? (ISO_NUMERIC[currency] ?? '') : '', currency ?? ''],
    ['ID5', local.date, local.time],
    ['VA1', init.paid.value, init.paid.count, reset.paid.value, reset.paid.count],
    ['VA3', init.free.value, init.free.count, reset.free.value, reset.free.count],
    ['DA1', '', 'CARD'],
    ['DA2', init.card.value, init.card.count, reset.card.value, reset.card.count],
  ];
  for (const line of init.lines) {
    const sinceReset = resetLines.get(lineId(line));
    body.push(['PA1', productId(line), line.price]);
    body.push([
      'PA2',
      line.paid.count,
      line.paid.value,
      sinceReset?.paid.count ?? 0,
      sinceReset?.paid.value ?? 0,
    ]);
    if (line.free.count > 0) {
      body.push([
        'PA4',
        line.free.count,
        line.free.value,
        sinceReset?.free.count ?? 0,
        sinceReset?.free.value ?? 0,
      ]);
    }
  }
  body.push([
    'MA5',
    'REFUNDS',
    init.refunds.value,
    init.refunds.count,
    reset.refunds.value,
    reset.refunds.count,
  ]);
  body.push([
    'MA5',
    'INTERVAL',
    last?.date ?? '',
    last?.time ?? '',
    read.paid.value,
    read.paid.count,
    read.free.count,
    read.card.value,
    read.card.count,
    read.refunds.value,
    read.refunds.count,
  ]);
  for (const line of init.lines) {
    const l = readLines.get(lineId(line));
    if (!l || (l.paid.count === 0 && l.free.count === 0)) continue;
    body.push(['MA5', 'INTERVAL_PA', productId(line), line.price, l.paid.count, l.paid.value, l.free.count]);
  }
  body.push([
    'EA3',
    r.resets,
    local.date,
    local.time,
    field(r.readBy),
    last?.date ?? '',
    last?.time ?? '',
    last ? field(r.lastRead?.by ?? '') : '',
    '',
    r.reads + r.resets,
    r.resets,
  ]);

  const data = body.map(segment).join('');
  const crc = dexCrc16(data);
  // ST … G85 plus SE itself.
  const count = body.length + 2;
  return `${segment(['DXS', SENDER, 'VA', 'V0/6', 1])}${data}${segment(['G85', crc])}${segment([
    'SE',
    count,
    '0001',
  ])}${segment(['DXE', 1, 1])}`;
}

/** One segment: fields joined by `*`, trailing empty fields dropped, CRLF. */
function segment(fields: (string | number)[]): string {
  const parts = fields.map((f) => (typeof f === 'number' ? String(f) : field(f)));
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return `${parts.join('*')}\r\n`;
}

/** A text field: no separators, no line breaks, printable ASCII, at most 40 characters. */
function field(s: string): string {
  return s
    .replace(/[*\r\n]/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 40);
}

const lineId = (l: Pick<CounterLine, 'recipeId' | 'size' | 'price'>) => `${l.recipeId}|${l.size}|${l.price}`;

/** PA101: the recipe and its size, e.g. `espresso.M` (the same product at two prices is two PA1 lines). */
export const productId = (l: Pick<CounterLine, 'recipeId' | 'size'>) => `${l.recipeId}.${l.size}`;

/** Decimal places of the currency's minor unit (ISO 4217), 2 when unknown. */
export function minorDigits(currency: string | null): number {
  if (!currency) return 2;
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

/** ISO 4217 numeric codes of the currencies Crema's merchants use; others leave ID402 empty. */
const ISO_NUMERIC: Record<string, string> = {
  EUR: '978',
  USD: '840',
  GBP: '826',
  CHF: '756',
  SEK: '752',
  NOK: '578',
  DKK: '208',
  PLN: '985',
  CZK: '203',
  HUF: '348',
  JPY: '392',
  CAD: '124',
  AUD: '036',
};

/** DEX date (YYMMDD) and time (HHMM) in a time zone. */
function localParts(at: number, timeZone: string): { date: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: '2-digit',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
  return { date: `${get('year')}${get('month')}${get('day')}`, time: `${get('hour')}${get('minute')}` };
}
