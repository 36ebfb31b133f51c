import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../../src/config/hub-config';
import { Hub } from '../../src/hub';

const mode = (path: string) => statSync(path).mode & 0o777;

/** A real hub process part: files on disk and listeners on sockets. */
describe('hub data files and metrics exposure', () => {
  const root = mkdtempSync(join(tmpdir(), 'crema-hub-hardening-'));
  const hubs: Hub[] = [];
  afterAll(async () => {
    for (const hub of hubs) await hub.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function start(flags: string[], env: NodeJS.ProcessEnv = {}) {
    const config = loadHubConfig(['--port', '0', '--mqtt-port', '0', ...flags], {
      CREMA_ADMIN_PASSWORD: 'hardening test passphrase',
      ...env,
    });
    const hub = new Hub({ config, logger: pino({ level: 'silent' }), announce: () => {} });
    hubs.push(hub);
    return hub.start();
  }

  it('tightens an existing data directory and database files to 0700/0600', async () => {
    const dir = join(root, 'existing');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const db = join(dir, 'hub.sqlite');
    closeSync(openSync(db, 'w', 0o644));
    chmodSync(db, 0o644);
    const fresh = join(root, 'fresh', 'nested');
    await start(['--data-dir', dir]);
    await start(['--data-dir', fresh]);
    expect(mode(dir)).toBe(0o700);
    for (const file of ['hub.sqlite', 'hub.sqlite-wal', 'hub.sqlite-shm', 'jwt-secret'])
      expect(mode(join(dir, file))).toBe(0o600);
    expect(mode(fresh)).toBe(0o700);
    for (const file of ['hub.sqlite', 'hub.sqlite-wal', 'hub.sqlite-shm'])
      expect(mode(join(fresh, file))).toBe(0o600);
  }, 30_000);

  it('keeps metrics off the API port when bound beyond loopback, on a separate listener', async () => {
    const at = await start(['--data-dir', join(root, 'wide'), '--host', '0.0.0.0', '--metrics-port', '0']);
    const api = at.http.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    const hidden = await fetch(`${api}/metrics`);
    expect(hidden.status).toBe(404);
    expect(at.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await fetch(at.metrics ?? '');
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('crema_http_requests_total');
    expect((await fetch((at.metrics ?? '').replace('/metrics', '/api/v1/devices'))).status).toBe(404);
  }, 30_000);

  it('without a listener or token, a hub bound beyond loopback serves no metrics at all', async () => {
    const at = await start(['--data-dir', join(root, 'wide2'), '--host', '0.0.0.0']);
    expect(at.metrics).toBeUndefined();
    expect((await fetch(`${at.http.replace('0.0.0.0', '127.0.0.1')}/metrics`)).status).toBe(404);
  }, 30_000);

  it('serves metrics on the API port to holders of the metrics token only', async () => {
    const token = 'scrape-me-with-this-long-token';
    const at = await start(['--data-dir', join(root, 'token')], { CREMA_METRICS_TOKEN: token });
    const none = await fetch(`${at.http}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('AUTH_REQUIRED');
    const wrong = await fetch(`${at.http}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${at.http}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  }, 30_000);
});
