import { problemFromError, problemOf, problemResponse } from '@crema/protocol';
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
  // RFC 9457 problem+json, the same format as the hub and the agent; the status comes from the catalogue.
  app.notFound((c) =>
    problemResponse(problemOf('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`, c.req.path)),
  );
  app.onError((err, c) => problemResponse(problemFromError(err, c.req.path)));
  return app;
}
