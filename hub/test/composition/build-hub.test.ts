import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildHub, type HubParts } from '../../src/composition/build-hub';
import { loadHubConfig } from '../../src/config/hub-config';
import { SteppedClock } from '../support/clock';

/** The composition root on a real SQLite file: every part built once, handed over complete, nothing started. */
describe('buildHub', () => {
  let dir: string;
  let parts: HubParts | undefined;
  const logger = pino({ level: 'silent' });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-hub-parts-'));
    parts = undefined;
  });
  afterEach(async () => {
    await parts?.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () => loadHubConfig(['--port', '0', '--mqtt-port', '0', '--data-dir', dir], {});

  it('hands the HTTP app the very parts it built, frozen, with one clock', async () => {
    const clock = new SteppedClock();
    parts = await buildHub({ config: config(), clock, logger, env: {} });
    const { api } = parts;
    expect(Object.isFrozen(api)).toBe(true);
    expect(api.db).toBe(parts.db);
    expect(api.operations).toBe(parts.operations);
    expect(api.deviceChannel).toBe(parts.deviceChannel);
    expect(api.operations.signingKey).toBe(parts.signingKey);
    expect(api.clock).toBe(clock);
    expect(parts.clock).toBe(clock);
    // The signing key was generated once into the data directory, not thrown away.
    expect(existsSync(join(dir, 'signing-key.pem'))).toBe(true);
  });

  it('builds but does not start: the MQTT check keeps /readyz at 503 and device routes cannot serve yet', async () => {
    parts = await buildHub({ config: config(), clock: new SteppedClock(), logger, env: {} });
    const ready = await parts.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks).toMatchObject({
      database: true,
      migrations: true,
      mqtt: false,
    });
    expect(parts.gateway.ready()).toBe(false);
  });

  it('refuses a bad CREMA_SIGNING_KEY with CONFIG_INVALID instead of making up a key', async () => {
    await expect(
      buildHub({
        config: config(),
        clock: new SteppedClock(),
        logger,
        env: { CREMA_SIGNING_KEY: 'not a pem' },
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(existsSync(join(dir, 'signing-key.pem'))).toBe(false);
  });
});
