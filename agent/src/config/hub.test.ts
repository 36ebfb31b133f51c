import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HubConfigSchema } from './hub';

const base = {
  mqttUrl: 'mqtts://hub.example.com:8883',
  httpUrl: 'https://hub.example.com',
  credential: 'a-device-credential-0123456789',
};

const issues = (input: unknown) => {
  const parsed = HubConfigSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('hub config section', () => {
  it('takes the link alone: no key, no tuning overrides', () => {
    expect(HubConfigSchema.parse(base)).toEqual({ ...base, sync: {} });
  });

  it('takes an Ed25519 SPKI PEM, a firmware version and tuning overrides', () => {
    const publicKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const parsed = HubConfigSchema.parse({
      ...base,
      publicKey,
      firmwareVersion: '2.0.1',
      sync: { heartbeatIntervalS: 10, reconnect: { initialMs: 500, maxMs: 5_000 }, batchMode: 'single' },
    });
    expect(parsed.publicKey).toBe(publicKey);
    expect(parsed.sync).toEqual({
      heartbeatIntervalS: 10,
      reconnect: { initialMs: 500, maxMs: 5_000 },
      batchMode: 'single',
    });
  });

  it('names each bad field', () => {
    const mangled = '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n';
    expect(issues({ ...base, publicKey: mangled })).toEqual(['publicKey']);
    expect(issues({ ...base, firmwareVersion: 'v1' })).toEqual(['firmwareVersion']);
    expect(issues({ ...base, sync: { chunk: 501 } })).toEqual(['sync.chunk']);
    expect(issues({ ...base, sync: { reconnect: { initialMs: 5_000, maxMs: 500 } } })).toEqual([
      'sync.reconnect',
    ]);
    expect(issues({ ...base, sync: { window: 10, unknown: 1 } })).toEqual(['sync']);
  });

  it('takes a claim code instead of a credential, never both or neither', () => {
    const { credential: _, ...link } = base;
    expect(HubConfigSchema.parse({ ...link, claimCode: '7k3m-qx2a-9pzr-d4ht' }).claimCode).toBe(
      '7k3m-qx2a-9pzr-d4ht',
    );
    expect(issues({ ...link, claimCode: '7K3M-QX2A-9PZR-D4HU' })).toEqual(['claimCode']);
    expect(issues({ ...base, claimCode: '7K3M-QX2A-9PZR-D4HT' })).toEqual(['credential']);
    expect(issues(link)).toEqual(['credential']);
  });
});
