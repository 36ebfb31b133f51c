import { csvCell } from '@crema/protocol';
import { stringify } from 'csv-stringify/sync';
import { type DeviceListStateRow, toDeviceListItem } from './repository';

export const DEVICE_CSV_COLUMNS = [
  'id',
  'merchantId',
  'locationId',
  'model',
  'name',
  'status',
  'credentialRotatedAt',
  'revokedAt',
  'createdAt',
  'online',
  'lastSeenAt',
] as const;

/** Streams devices as CSV (header first), pulling rows from the source only as fast as the client reads. */
export function deviceCsvStream(rows: AsyncIterable<DeviceListStateRow>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = rows[Symbol.asyncIterator]();
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(stringify([DEVICE_CSV_COLUMNS as unknown as string[]])));
      }
      const batch: string[][] = [];
      while (batch.length < 200) {
        const next = await iterator.next();
        if (next.done) break;
        const view = toDeviceListItem(next.value);
        batch.push(DEVICE_CSV_COLUMNS.map((column) => csvCell(view[column])));
      }
      if (batch.length > 0) controller.enqueue(encoder.encode(stringify(batch)));
      if (batch.length < 200) controller.close();
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
