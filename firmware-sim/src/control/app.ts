import { ErrorCodes, isErrorCode } from '@crema/protocol';
import { Hono } from 'hono';
import { SimError } from '../errors';
import type { Simulator } from '../simulator';
import { dispenseLog, faultList, machineState, paymentsSummary, refill } from './actions';

async function jsonBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new SimError('MALFORMED_JSON');
  }
}

/** The control API: inspect the machine, inject and clear faults, refill, read the payment and dispense logs. */
export function createControlApp(sim: Simulator): Hono {
  const app = new Hono();
  app.get('/state', (c) => c.json(machineState(sim)));
  app.get('/faults', (c) => c.json(faultList(sim)));
  app.post('/faults/:name', async (c) => {
    const body = await jsonBody(c.req.raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SimError('VALIDATION_FAILED', 'fault parameters must be a JSON object');
    }
    return c.json(sim.faults.inject(c.req.param('name'), body as Record<string, unknown>));
  });
  app.delete('/faults/:name', (c) => c.json(sim.faults.clear(c.req.param('name'))));
  app.delete('/faults', (c) => {
    for (const f of sim.faults.list()) sim.faults.clear(f.name);
    return c.json(faultList(sim));
  });
  app.post('/refill', async (c) => c.json(refill(sim, await jsonBody(c.req.raw))));
  app.get('/payments', (c) => c.json(paymentsSummary(sim)));
  app.get('/dispenses', (c) => c.json(dispenseLog(sim)));
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: ErrorCodes.NOT_FOUND.message } }, 404));
  app.onError((err, c) => {
    const code = err instanceof SimError && isErrorCode(err.code) ? err.code : 'INTERNAL';
    const status = ErrorCodes[code].status as 400 | 404 | 500;
    return c.json({ error: { code, message: err.message } }, status);
  });
  return app;
}
