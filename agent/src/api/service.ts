import { MaintenanceKindSchema } from '@crema/protocol';
import { Hono } from 'hono';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { MaintenanceService } from '../maintenance/service';
import type { Bins } from '../monitor/bins';
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
  bins?: Bins | undefined;
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
  // A technician filled a bin without a level sensor (a powder doser): to `level`, or to its capacity.
  app.post('/bins/:bin/fill', async (c) => {
    const body = ((await readJson(c)) ?? {}) as { level?: unknown };
    if (body.level !== undefined && (typeof body.level !== 'number' || !Number.isFinite(body.level)))
      throw new AgentError('VALIDATION_FAILED', 'level: expected a number');
    const bin = Number(c.req.param('bin'));
    const binding = o.bins?.bindings.find((b) => b.bin === bin);
    if (!o.bins || !binding) throw new AgentError('NOT_FOUND', `no bin ${c.req.param('bin')} is bound`);
    const level = o.bins.fill(bin, body.level as number | undefined);
    o.logger.info({ bin, material: binding.material, level }, 'bin filled');
    return c.json({ bin, material: binding.material, level });
  });
  return app;
}
