import { Hono } from 'hono';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { FREE_VEND_KEY } from '../orders/order-service';
import type { Store } from '../store/store';
import { readJson } from './errors';
import { technicianOnly } from './guards/technician';

/** Technician service actions; every route here needs the technician credential. */
export function serviceRoutes(o: { store: Store; logger: Logger; technicianToken?: string }): Hono {
  const app = new Hono();
  app.use('*', technicianOnly(o.technicianToken));

  // Service mode: drinks without payment, recorded as method free_vend with amount 0.
  app.put('/free-vend', async (c) => {
    const body = (await readJson(c)) as { enabled?: unknown } | null;
    if (typeof body?.enabled !== 'boolean')
      throw new AgentError('VALIDATION_FAILED', 'enabled: expected a boolean');
    o.store.settings.set(FREE_VEND_KEY, body.enabled);
    o.logger.info({ enabled: body.enabled }, 'free vend mode changed');
    return c.json({ freeVend: body.enabled });
  });
  return app;
}
