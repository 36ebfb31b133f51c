import { crc32, deflateSync } from 'node:zlib';
import { ALL_MERCHANTS } from '../operations/context';
import { AttachmentService } from '../operations/workorders/attachments';
import type { ArtifactStore } from '../updates/artifacts/store';
import type { DemoWorld } from './world';

/**
 * A few attachments for the demo's work orders: a photo (a small generated PNG) and a service sheet (a
 * one-page PDF), stored like uploads. Returns how many were attached.
 */
export async function seedAttachments(
  world: DemoWorld,
  store: ArtifactStore,
  workOrders: { id: string; userId: string }[],
): Promise<number> {
  const svc = new AttachmentService(world.ctx, store);
  let n = 0;
  for (const wo of workOrders.slice(0, 6)) {
    const photo = await svc.receive([demoPng(world.rng.int(0, 0xffffff))]);
    await svc.record(ALL_MERCHANTS, { userId: wo.userId }, wo.id, 'machine-front.png', photo);
    n++;
    if (n % 2 === 0) {
      const sheet = await svc.receive([demoPdf(`Service sheet for work order ${wo.id}`)]);
      await svc.record(ALL_MERCHANTS, { userId: wo.userId }, wo.id, 'service-sheet.pdf', sheet);
      n++;
    }
  }
  return n;
}

/** A 16×16 PNG of one colour. */
export function demoPng(rgb: number): Uint8Array {
  const size = 16;
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) row.writeUIntBE(rgb & 0xffffff, 1 + x * 3, 3);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A one-page PDF with a line of text, with a correct cross-reference table. */
export function demoPdf(text: string): Uint8Array {
  const safe = text.replace(/[()\\]/g, '');
  const stream = `BT /F1 14 Tf 40 780 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}
