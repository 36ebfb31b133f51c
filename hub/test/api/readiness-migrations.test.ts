import { FakeClock } from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { buildApiDeps } from '../../src/api/build-deps';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

describe.each(BACKENDS)('readiness before migrations on %s', (backend) => {
  let store: TestDb;
  beforeAll(async () => {
    store = await openTestDb(backend, { migrate: false });
  });
  afterAll(async () => {
    await store?.cleanup();
  });

  it('/readyz is 503 while migrations are pending, /healthz still 200', async () => {
    const deps = buildApiDeps({
      db: store.db,
      clock: new FakeClock(),
      logger: pino({ level: 'silent' }),
      jwtSecret: new Uint8Array(32).fill(7),
    });
    const app = createApp(deps);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.migrations).toBe(false);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
