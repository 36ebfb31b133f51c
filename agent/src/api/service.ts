import { MaintenanceKindSchema } from '@crema/protocol';
import { Hono } from 'hono';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { MaintenanceService } from '../maintenance/service';
import { FREE_VEND_KEY } from '../orders/order-service';
import type { Store } from '../store/store';
import { readJson } from './errors';
import { technicianOnly } from './guards/technician';

/** Technician service actions; every route here needs the technician credential. */
export function serviceRoutes(o: {
  store: Store;
  logger: Logger;
  technicianToken?: string;
  maintenance?: MaintenanceService;
}): Hono {
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

  // A rinse or descale from the service menu: started now (a descale takes minutes), counted when it succeeds;
  // follow it on GET /status (`maintenance.running`, then `lastAt`).
  app.post('/maintenance/:kind', async (c) => {
    const kind = MaintenanceKindSchema.safeParse(c.req.param('kind'));
    if (!kind.success) throw new AgentError('NOT_FOUND', 'expected rinse or descale');
    const maintenance = o.maintenance;
    if (!maintenance) throw new AgentError('UNAVAILABLE', 'maintenance is not running');
    const run = maintenance.perform(kind.data, 'service');
    // perform() refuses at once (busy: its rejection is the answer) or runs on in the background.
    if (maintenance.view().running !== kind.data) await run;
    run.catch(() => undefined);
    return c.json({ running: kind.data }, 202);
  });
  return app;
}
