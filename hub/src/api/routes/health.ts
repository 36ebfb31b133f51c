import { sql } from 'kysely';
import { pendingMigrations } from '../../db/migrate';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';

/**
 * Liveness, readiness and metrics: outside the versioned API and the OpenAPI document. Health is
 * unauthenticated; metrics follow the hub's metrics access settings.
 */
export function register(app: HubApp, deps: ApiDeps): void {
  deps.readiness.add('database', async () => {
    await sql`select 1`.execute(deps.db.kysely);
    return true;
  });
  deps.readiness.add('migrations', async () => {
    const pending = await pendingMigrations(
      deps.db.kysely,
      deps.db.schema === undefined ? {} : { schema: deps.db.schema },
    );
    return pending.length === 0;
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const { ready, checks } = await deps.readiness.evaluate();
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });
  // Business figures: served here only as the configuration allows (see `metricsAccessOf`).
  if (deps.metrics.access.onApiPort) {
    app.get('/metrics', (c) => deps.metrics.scrape(c.req.header('authorization')));
  }
}
