import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt (memory-hard) hashes encoded as `scrypt$N$r$p$salt$hash` (base64url), so cost parameters can be raised
 * later without invalidating stored hashes. Verification compares in constant time.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Human passwords: 32 MiB of memory per hash, a few tens of milliseconds. */
export const PASSWORD_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
/**
 * Device secrets carry 256 random bits, so brute force is hopeless at any cost; a lighter scrypt keeps a
 * reconnect storm of thousands of devices cheap while still never storing the secret itself.
 */
export const DEVICE_SECRET_PARAMS: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

const KEY_LEN = 32;

function derive(secret: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFKC'), salt, KEY_LEN, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashSecret(secret: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltText, keyText] = parts as [string, string, string, string, string, string];
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Number.isInteger(params.N) || !Number.isInteger(params.r) || !Number.isInteger(params.p)) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const actual = await derive(secret, Buffer.from(saltText, 'base64url'), params);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
