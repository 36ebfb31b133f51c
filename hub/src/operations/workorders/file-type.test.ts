import { describe, expect, it } from 'vitest';
import { sniffType, typedStream } from './file-type';

const bytes = (s: string) => new TextEncoder().encode(s);
async function drain(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('attachment type by content', () => {
  it('knows JPEG, PNG, WebP and PDF by their first bytes, and nothing else', () => {
    expect(sniffType(Uint8Array.from([0xff, 0xd8, 0xff, 0xdb]))).toBe('image/jpeg');
    expect(sniffType(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('image/png');
    expect(sniffType(bytes('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffType(bytes('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
    expect(sniffType(bytes('%PDF-1.7'))).toBe('application/pdf');
    for (const s of ['<svg xmlns="http://www.w3.org/2000/svg"/>', '<!doctype html>', 'GIF89a', ' %PDF-1.4'])
      expect(sniffType(bytes(s))).toBeUndefined();
  });

  it('decides across chunk boundaries and passes every byte through unchanged', async () => {
    const file = bytes('%PDF-1.4 the rest of the file');
    const oneByOne = (async function* () {
      for (const b of file) yield Uint8Array.of(b);
    })();
    const typed = typedStream(oneByOne);
    expect(await drain(typed.stream)).toEqual(file);
    expect(typed.type()).toBe('application/pdf');
    const tiny = typedStream([Uint8Array.from([0xff, 0xd8, 0xff])]);
    expect(await drain(tiny.stream)).toEqual(Uint8Array.from([0xff, 0xd8, 0xff]));
    expect(tiny.type()).toBe('image/jpeg');
  });

  it('refuses an unknown type before reading on', async () => {
    let pulled = 0;
    const endless = (async function* () {
      for (;;) {
        pulled++;
        yield bytes('<html><body>');
      }
    })();
    await expect(drain(typedStream(endless).stream)).rejects.toMatchObject({
      code: 'ATTACHMENT_TYPE_UNSUPPORTED',
    });
    expect(pulled).toBe(1);
  });
});
