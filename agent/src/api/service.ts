import { Hono } from 'hono';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { Bins } from '../monitor/bins';
import { FREE_VEND_KEY } from '../orders/order-service';
import type { Store } from '../store/store';
import { readJson } from './errors';
import { technicianOnly } from './guards/technician';

/** Technician service actions; every route here needs the technician credential. */
export function serviceRoutes(o: {
  store: Store;
  logger: Logger;
  technicianToken?: string | undefined;
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
