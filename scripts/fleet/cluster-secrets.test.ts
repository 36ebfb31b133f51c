import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterSecrets } from './cluster-secrets';

describe('the scaled fleet’s shared secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crema-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are made once per data directory, kept 0600, and the environment overrides each', () => {
    const first = clusterSecrets(dir, {});
    expect(first.CREMA_KEY_ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(first.CREMA_SIGNING_KEY).toContain('BEGIN PRIVATE KEY');
    expect(statSync(join(dir, 'cluster-secrets.json')).mode & 0o777).toBe(0o600);
    expect(clusterSecrets(dir, {})).toEqual(first);
    const other = clusterSecrets(mkdtempSync(join(dir, 'other-')), {});
    expect(other.CREMA_KEY_ENCRYPTION_KEY).not.toBe(first.CREMA_KEY_ENCRYPTION_KEY);
    const chosen = clusterSecrets(dir, { CREMA_JWT_SECRET: 'from-the-operator' });
    expect(chosen).toEqual({ ...first, CREMA_JWT_SECRET: 'from-the-operator' });
  });
});
