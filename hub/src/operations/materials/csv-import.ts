import { Limits } from '@crema/protocol';
import { CsvError, parse } from 'csv-parse/sync';
import { HubError } from '../../errors';
import { type CatalogItemInput, CatalogItemInputSchema, type CatalogService } from './catalog';
import { defaultUnit } from './units';

/**
 * CSV import of the material catalog. Policy: ALL OR NOTHING. If any row is bad the whole file is refused
 * with CSV_INVALID and every error listed by line number; nothing is written. A good file is upserted by SKU
 * in one transaction. Files are UTF-8 (an optional BOM is accepted), at most 64 KiB (the API's body limit)
 * and 2,000 rows, with the header `sku,name,material,unit,pack_size` in any order.
 */
export const CSV_MAX_BYTES = Limits.messageBytes;
export const CSV_MAX_ROWS = 2000;
export const CSV_COLUMNS = ['sku', 'name', 'material', 'unit', 'pack_size'] as const;
/** Errors listed in one answer; the count says how many there were in all. */
const MAX_LISTED_ERRORS = 100;

export interface CsvRowError {
  line: number;
  column?: string;
  message: string;
}

export interface CsvImportResult {
  rows: number;
  created: number;
  updated: number;
}

export async function importCatalogCsv(
  catalog: CatalogService,
  merchantId: string,
  bytes: Uint8Array,
): Promise<CsvImportResult> {
  const items = parseCatalogCsv(bytes);
  const written = await catalog.upsertMany(merchantId, items);
  const created = written.filter((w) => w.before === null).length;
  return { rows: written.length, created, updated: written.length - created };
}

/** Parses and validates the whole file; throws CSV_INVALID listing every bad row, or returns every item. */
export function parseCatalogCsv(bytes: Uint8Array): CatalogItemInput[] {
  if (bytes.byteLength > CSV_MAX_BYTES) {
    throw new HubError('PAYLOAD_TOO_LARGE', `the CSV file exceeds ${CSV_MAX_BYTES} bytes`);
  }
  const text = decodeUtf8(bytes);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError)
      fail([{ line: (err as CsvError & { lines?: number }).lines ?? 1, message: err.message }]);
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) fail([{ line: 1, message: 'the file is empty; expected a header row' }]);
  const columns = header.record.map((c) => c.toLowerCase());
  const headerErrors = checkHeader(columns);
  if (headerErrors.length > 0) fail(headerErrors.map((message) => ({ line: header.info.lines, message })));
  if (rows.length === 0) fail([{ line: header.info.lines, message: 'the file has no data rows' }]);
  if (rows.length > CSV_MAX_ROWS) {
    fail([{ line: CSV_MAX_ROWS + 2, message: `at most ${CSV_MAX_ROWS} rows per import` }]);
  }
  const index = Object.fromEntries(CSV_COLUMNS.map((c) => [c, columns.indexOf(c)])) as Record<
    (typeof CSV_COLUMNS)[number],
    number
  >;
  const errors: CsvRowError[] = [];
  const items: CatalogItemInput[] = [];
  const firstLineOfSku = new Map<string, number>();
  const unitOfMaterial = new Map<string, { unit: string; line: number }>();
  for (const { record, info } of rows) {
    const line = info.lines;
    if (record.length !== columns.length) {
      errors.push({ line, message: `expected ${columns.length} fields, found ${record.length}` });
      continue;
    }
    const cell = (c: (typeof CSV_COLUMNS)[number]) => record[index[c]] ?? '';
    const packText = cell('pack_size');
    const parsed = CatalogItemInputSchema.safeParse({
      sku: cell('sku'),
      name: cell('name'),
      material: cell('material'),
      unit: cell('unit'),
      packSize: /^\d+(\.\d+)?$/.test(packText) ? Number(packText) : Number.NaN,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = String(issue.path[0] ?? '');
        errors.push({ line, column: key === 'packSize' ? 'pack_size' : key, message: issue.message });
      }
      continue;
    }
    const item = parsed.data;
    // The default kinds have fixed units; any other code takes the unit of its first row in the file.
    const unit = defaultUnit(item.material) ?? unitOfMaterial.get(item.material)?.unit;
    if (unit !== undefined && unit !== item.unit) {
      const first = unitOfMaterial.get(item.material);
      const where = defaultUnit(item.material) || !first ? '' : ` (line ${first.line})`;
      errors.push({ line, column: 'unit', message: `${item.material} is measured in ${unit}${where}` });
      continue;
    }
    if (!unitOfMaterial.has(item.material)) unitOfMaterial.set(item.material, { unit: item.unit, line });
    const first = firstLineOfSku.get(item.sku);
    if (first !== undefined) {
      errors.push({ line, column: 'sku', message: `duplicate sku ${item.sku} (first on line ${first})` });
      continue;
    }
    firstLineOfSku.set(item.sku, line);
    items.push(item);
  }
  if (errors.length > 0) fail(errors);
  return items;
}

function checkHeader(columns: string[]): string[] {
  const errors: string[] = [];
  const missing = CSV_COLUMNS.filter((c) => !columns.includes(c));
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  const dupes = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (missing.length) errors.push(`missing columns: ${missing.join(', ')}`);
  if (unknown.length) errors.push(`unknown columns: ${unknown.join(', ')}`);
  if (dupes.length) errors.push(`duplicate columns: ${[...new Set(dupes)].join(', ')}`);
  return errors;
}

/** Decodes strict UTF-8; on failure names every line holding invalid bytes. */
function decodeUtf8(bytes: Uint8Array): string {
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    const errors: CsvRowError[] = [];
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let line = 1;
    let start = 0;
    for (let i = 0; i <= body.length; i++) {
      if (i === body.length || body[i] === 0x0a) {
        try {
          decoder.decode(body.subarray(start, i));
        } catch {
          errors.push({ line, message: 'the line is not valid UTF-8; save the file as UTF-8' });
        }
        line++;
        start = i + 1;
      }
    }
    fail(errors.length ? errors : [{ line: 1, message: 'the file is not valid UTF-8' }]);
  }
}

function fail(errors: CsvRowError[]): never {
  throw new HubError('CSV_INVALID', `${errors.length} error(s) in the CSV file; nothing was imported`, {
    details: { errors: errors.slice(0, MAX_LISTED_ERRORS), errorCount: errors.length },
  });
}
