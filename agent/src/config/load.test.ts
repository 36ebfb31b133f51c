import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../errors';
import { envOverrides, loadConfig } from './load';

const valid = {
  deviceId: 'machine-001',
  dataDir: '/var/lib/crema',
  drivers: {
    brewer: { transport: 'serial', path: '/dev/ttyUSB0' },
    payment: { transport: 'tcp', host: '127.0.0.1', port: 4001 },
    modbus: { transport: 'rtu', path: '/dev/ttyUSB1' },
  },
};

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'crema-config-')), 'agent.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function failure(fn: () => unknown): AgentError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AgentError) return err;
    throw err;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('configuration', () => {
  it('loads a file with defaults filled in', () => {
    const config = loadConfig({ file: file(valid), env: {} });
    expect(config).toMatchObject({
      deviceId: 'machine-001',
      model: 'crema-one',
      currency: 'EUR',
      api: { host: '127.0.0.1', port: 8080 },
      outbox: { maxBytes: 64 * 1024 * 1024 },
      drivers: {
        brewer: { baudRate: 115200 },
        modbus: { baudRate: 19200, pollIntervalMs: 1000, timeoutMs: 500 },
      },
    });
    expect(config.hub).toBeUndefined();
  });

  it('lets CREMA_AGENT_* variables override the file, nested with __', () => {
    const env = {
      CREMA_AGENT_DEVICE_ID: 'machine-002',
      CREMA_AGENT_API__PORT: '0',
      CREMA_AGENT_HUB__MQTT_URL: 'mqtts://hub.example.com:8883',
      CREMA_AGENT_HUB__HTTP_URL: 'https://hub.example.com',
      CREMA_AGENT_HUB__CREDENTIAL: 'a-device-credential-0123456789',
      CREMA_AGENT_DRIVERS__PAYMENT__PORT: '4002',
      CREMA_AGENT_THRESHOLDS__WATER: '{"low":300,"margin":100}',
      OTHER: 'ignored',
    };
    expect(envOverrides(env)).toMatchObject({ deviceId: 'machine-002', api: { port: 0 } });
    const config = loadConfig({ file: file(valid), env });
    expect(config.deviceId).toBe('machine-002');
    expect(config.api.port).toBe(0);
    expect(config.hub?.mqttUrl).toBe('mqtts://hub.example.com:8883');
    expect(config.drivers.payment).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 4002 });
    expect(config.thresholds).toEqual({ water: { low: 300, margin: 100 } });
  });

  it('names every bad field, what it expects and the variable that sets it', () => {
    const err = failure(() =>
      loadConfig({
        file: file({ ...valid, deviceId: 'Bad Id!', currency: 'euro' }),
        env: { CREMA_AGENT_API__PORT: '70000', CREMA_AGENT_API__HOST: '' },
      }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('deviceId: lowercase letters, digits');
    expect(err.message).toContain('(or env CREMA_AGENT_DEVICE_ID)');
    expect(err.message).toContain('currency: ISO 4217');
    expect(err.message).toMatch(/api\.port: .*65535/);
    expect(err.message).toContain('CREMA_AGENT_API__PORT');
    expect(err.message).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('refuses unknown keys, missing sections and wrong driver shapes', () => {
    const err = failure(() =>
      loadConfig({
        file: file({
          ...valid,
          dataDir: undefined,
          colour: 'red',
          drivers: { ...valid.drivers, brewer: { transport: 'usb' } },
        }),
        env: {},
      }),
    );
    expect(err.message).toContain('dataDir:');
    expect(err.message).toContain('colour');
    expect(err.message).toContain('drivers.brewer.transport');
  });

  it('explains an unreadable or non-JSON file', () => {
    expect(failure(() => loadConfig({ file: '/nonexistent/agent.json' })).message).toContain(
      'cannot read config file',
    );
    expect(failure(() => loadConfig({ file: file('{ nope') })).message).toContain('is not valid JSON');
    expect(failure(() => loadConfig({ file: file('[1]') })).message).toContain('must hold a JSON object');
  });

  it('refuses to bind the API beyond loopback unless a technician credential is configured', () => {
    const token = 'f3a1c9e07b2d48a6915e3c7d0b8a4f21';
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'kiosk.local']) {
      const err = failure(() => loadConfig({ file: file({ ...valid, api: { host } }), env: {} }));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('api.host: binding beyond loopback');
      expect(
        loadConfig({ file: file({ ...valid, api: { host, technicianToken: token } }) }).api,
      ).toMatchObject({
        host,
        technicianToken: token,
      });
    }
    expect(loadConfig({ file: file({ ...valid, api: { host: '127.0.0.1' } }) }).api.technicianToken).toBe(
      undefined,
    );
    const short = failure(() => loadConfig({ file: file({ ...valid, api: { technicianToken: 'secret' } }) }));
    expect(short.message).toContain('api.technicianToken: at least 24 characters');
  });
});
