import { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { buildTestApiDeps } from '../support/api-deps';
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
    const deps = buildTestApiDeps(store.db, new FakeClock());
    const app = createApp(deps);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.migrations).toBe(false);
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
