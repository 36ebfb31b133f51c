import { describe, expect, it } from 'vitest';
import { multipartBoundary, multipartFile } from './multipart-file';

async function drain(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('latin1');
}
function* split(s: string, size: number) {
  const b = Buffer.from(s, 'latin1');
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe('streamed multipart file', () => {
  const boundary = 'XyZ';
  const file = 'line one\r\n--XyY\r\n--Xy\r\nline two';
  const body =
    `--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n` +
    `--XyZ\r\nContent-Disposition: form-data; name="file"; filename="manual.pdf"\r\nContent-Type: application/pdf\r\n\r\n` +
    `${file}\r\n--XyZ--\r\n`;

  it('reads the boundary from the content type', () => {
    expect(multipartBoundary('multipart/form-data; boundary=XyZ')).toBe('XyZ');
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('application/pdf')).toBeUndefined();
    expect(() => multipartBoundary('multipart/form-data; charset=utf-8')).toThrow();
  });

  it('yields exactly the file part, whatever the chunk sizes', async () => {
    for (const size of [1, 2, 3, 7, 64, body.length]) {
      const part = multipartFile(split(body, size) as unknown as AsyncIterable<Uint8Array>, boundary);
      expect(await drain(part.stream), `chunks of ${size}`).toBe(file);
      expect(part.fileName()).toBe('manual.pdf');
    }
  });

  it('refuses a body without a file part or cut off inside it', async () => {
    const noFile = `--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--XyZ--\r\n`;
    await expect(drain(multipartFile(split(noFile, 5) as never, boundary).stream)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const cut = body.slice(0, body.indexOf('line two'));
    await expect(drain(multipartFile(split(cut, 5) as never, boundary).stream)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
