import { describe, expect, it } from 'vitest';
import { flashChunks } from './bootloader';
import { BrewerDialect } from './brewer';
import { decodeFrame, encodeFrame } from './frame';

describe('bootloader FLASH chunks', () => {
  const image = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

  it('cover the image exactly, from any resume point, each a FLASH line the dialect decodes', () => {
    for (const from of [0, 48, 500, 999]) {
      const chunks = [...flashChunks(image, from)];
      expect(chunks[0]?.off).toBe(from);
      expect(chunks.at(-1)?.end).toBe(image.length);
      const joined = Buffer.concat(chunks.map((c) => Buffer.from(c.data, 'hex')));
      expect(joined.equals(Buffer.from(image.subarray(from)))).toBe(true);
      for (const c of chunks) {
        const line = encodeFrame({
          kind: 'request',
          id: 1,
          verb: 'FLASH',
          args: { slot: 'b', off: String(c.off), data: c.data, crc: c.crc },
        });
        const d = decodeFrame(line, BrewerDialect);
        expect(d.ok, line).toBe(true);
      }
    }
  });

  it('48 bytes fit one FLASH line, 49 do not', () => {
    const line = encodeFrame({
      kind: 'request',
      id: 1,
      verb: 'FLASH',
      args: { slot: 'b', off: '0', data: '00'.repeat(48), crc: '0000' },
    });
    expect(decodeFrame(line, BrewerDialect).ok).toBe(true);
    expect(() =>
      encodeFrame({
        kind: 'request',
        id: 1,
        verb: 'FLASH',
        args: { slot: 'b', off: '0', data: '00'.repeat(49), crc: '0000' },
      }),
    ).toThrow();
  });
});
