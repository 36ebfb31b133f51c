import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../errors';
import { loadJwtSecret } from './jwt-secret';

describe('JWT secret', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'crema-jwt-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is generated once, stored 0600, and reused', () => {
    const d = dir();
    const first = loadJwtSecret(d, undefined);
    expect(first.byteLength).toBeGreaterThanOrEqual(32);
    expect(statSync(join(d, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(Buffer.from(loadJwtSecret(d, undefined)).equals(Buffer.from(first))).toBe(true);
    expect(readFileSync(join(d, 'jwt-secret'), 'utf8')).not.toBe('');
  });

  it('comes from CREMA_JWT_SECRET when set, which must be long enough', () => {
    const secret = 'x'.repeat(40);
    expect(Buffer.from(loadJwtSecret(dir(), secret)).toString()).toBe(secret);
    expect(() => loadJwtSecret(dir(), 'short')).toThrow(HubError);
  });
});
