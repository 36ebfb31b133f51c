import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HubError } from '../errors';
import { loadHubConfig, metricsAccessOf } from './hub-config';

describe('hub configuration', () => {
  it('needs nothing: SQLite and an embedded broker in ./.crema/hub', () => {
    const config = loadHubConfig([], {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      mqttPort: 1884,
      dataDir: resolve('.crema/hub'),
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.mqttUrl).toBeUndefined();
  });

  it('takes flags over environment variables, and ignores a leading --', () => {
    const env = { CREMA_HUB_PORT: '9000', CREMA_MQTT_PORT: '9001', CREMA_DATABASE_URL: 'postgres://x@h/db' };
    const config = loadHubConfig(['--', '--port', '0', '--data-dir', '/tmp/hubdata'], env);
    expect(config).toMatchObject({
      port: 0,
      mqttPort: 9001,
      dataDir: '/tmp/hubdata',
      databaseUrl: 'postgres://x@h/db',
    });
  });

  it('takes the artifact store from --artifact-store or CREMA_ARTIFACT_STORE, and leaves the default open', () => {
    expect(loadHubConfig([], {}).artifactStore).toBeUndefined();
    expect(loadHubConfig([], { CREMA_ARTIFACT_STORE: 'db' }).artifactStore).toBe('db');
    expect(loadHubConfig(['--artifact-store', 'fs'], { CREMA_ARTIFACT_STORE: 'db' }).artifactStore).toBe(
      'fs',
    );
    expect(() => loadHubConfig(['--artifact-store', 's3'], {})).toThrow(HubError);
  });

  it('refuses unknown flags and bad values with CONFIG_INVALID', () => {
    const refused = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      try {
        loadHubConfig(argv, env);
        return undefined;
      } catch (err) {
        return err instanceof HubError ? err.code : 'other';
      }
    };
    expect(refused(['--nope'])).toBe('CONFIG_INVALID');
    expect(refused(['--port', 'eighty'])).toBe('CONFIG_INVALID');
    expect(refused([], { CREMA_MQTT_URL: 'http://broker' })).toBe('CONFIG_INVALID');
    expect(refused(['--mqtt-url', 'mqtt://127.0.0.1:1883'])).toBeUndefined();
  });

  it('runs several hub processes only on PostgreSQL behind an external broker', () => {
    const refused = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      try {
        loadHubConfig(argv, env);
        return undefined;
      } catch (err) {
        return err instanceof HubError ? err.code : 'other';
      }
    };
    const pg = ['--database-url', 'postgres://x@h/db'];
    const broker = ['--mqtt-url', 'mqtt://hub:secret@broker:1883'];
    expect(refused(['--mqtt-share-group', 'crema', ...broker])).toBe('CONFIG_INVALID');
    expect(refused(['--mqtt-share-group', 'crema', ...pg])).toBe('CONFIG_INVALID');
    expect(refused(['--mqtt-share-group', 'a/b', ...pg, ...broker])).toBe('CONFIG_INVALID');
    expect(refused(['--mqtt-dynsec', 'true'])).toBe('CONFIG_INVALID');
    expect(refused(['--mqtt-dynsec', 'perhaps', ...broker])).toBe('CONFIG_INVALID');
    const config = loadHubConfig(['--mqtt-share-group', 'crema', ...pg], {
      CREMA_MQTT_URL: 'mqtt://hub:secret@broker:1883',
      CREMA_MQTT_DYNSEC: 'true',
    });
    expect(config).toMatchObject({ mqttShareGroup: 'crema', mqttDynsec: true });
  });

  it('keeps metrics off the public API port unless on loopback or behind a token', () => {
    const access = (argv: string[], env: NodeJS.ProcessEnv = {}) => metricsAccessOf(loadHubConfig(argv, env));
    expect(access([])).toEqual({ onApiPort: true });
    expect(access(['--host', '0.0.0.0'])).toEqual({ onApiPort: false });
    expect(access(['--host', '192.0.2.5', '--metrics-port', '9464'])).toEqual({ onApiPort: false });
    expect(access(['--metrics-port', '9464'])).toEqual({ onApiPort: false });
    const token = 'a-metrics-token-of-some-length';
    expect(access(['--host', '0.0.0.0'], { CREMA_METRICS_TOKEN: token })).toEqual({ onApiPort: true, token });
    expect(() => loadHubConfig([], { CREMA_METRICS_TOKEN: 'short' })).toThrow(/metricsToken/);
    expect(loadHubConfig(['--metrics-port', '9464'], {})).toMatchObject({
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
    });
  });
});
