import { describe, expect, it } from 'vitest';
import { hashSecret, PASSWORD_PARAMS, verifySecret } from './scrypt';

describe('scrypt hashes', () => {
  it('verifies the right secret only, with a fresh salt each time and the cost stored in the hash', async () => {
    const params = { N: 1024, r: 8, p: 1 };
    const a = await hashSecret('s3cret', params);
    const b = await hashSecret('s3cret', params);
    expect(a).not.toBe(b);
    expect(a.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifySecret('s3cret', a)).toBe(true);
    expect(await verifySecret('s3cret!', a)).toBe(false);
    expect(await verifySecret('s3cret', 'scrypt$x$8$1$aa$bb')).toBe(false);
    expect(await verifySecret('s3cret', 'plain')).toBe(false);
  });

  it('uses a memory-hard cost for passwords (≥ 16 MiB)', async () => {
    expect(128 * PASSWORD_PARAMS.N * PASSWORD_PARAMS.r).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    const hash = await hashSecret('correct horse battery staple', PASSWORD_PARAMS);
    expect(await verifySecret('correct horse battery staple', hash)).toBe(true);
  });
});
