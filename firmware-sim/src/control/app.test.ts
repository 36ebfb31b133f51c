import { ErrorCodes, PROBLEM_CONTENT_TYPE, ProblemSchema } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator';
import { ManualClock } from '../time/manual-clock';
import { createControlApp } from './app';
import { runCommand } from './commands';

describe('control API and stdin commands', () => {
  let sim: Simulator;
  let app: ReturnType<typeof createControlApp>;

  beforeAll(async () => {
    sim = await startSimulator({
      clock: new ManualClock(),
      pty: false,
      controlPort: false,
      initialTempC: 90,
    });
    app = createControlApp(sim);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const json = async (res: Response | Promise<Response>) => {
    const r = await res;
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it('injects and clears faults, with parameters, and reports them in the state', async () => {
    expect(await json(app.request('/faults/water_empty', { method: 'POST' }))).toMatchObject({
      status: 200,
      body: { name: 'water_empty', active: true },
    });
    const slow = await json(
      app.request('/faults/serial_slow', { method: 'POST', body: JSON.stringify({ ms: 1234, link: 'all' }) }),
    );
    expect(slow.body).toMatchObject({ params: { ms: 1234, link: 'all' } });
    const state = await json(app.request('/state'));
    expect(state.body).toMatchObject({ faults: ['water_empty'], levels: { water_ml: 0 } });
    expect(sim.model.levels.water_ml).toBeGreaterThan(0);
    await app.request('/faults/water_empty', { method: 'DELETE' });
    await app.request('/faults', { method: 'DELETE' });
    expect(sim.faults.list()).toEqual([]);
  });

  it('refuses unknown faults, bad parameters and bad JSON with coded errors, changing nothing', async () => {
    expect(await json(app.request('/faults/coffee_rain', { method: 'POST' }))).toMatchObject({
      status: 404,
      body: { status: 404, code: 'NOT_FOUND', instance: '/faults/coffee_rain' },
    });
    expect(
      await json(app.request('/faults/serial_slow', { method: 'POST', body: JSON.stringify({ ms: -1 }) })),
    ).toMatchObject({ status: 400, body: { status: 400, code: 'VALIDATION_FAILED' } });
    expect(await json(app.request('/faults/door_open', { method: 'POST', body: '{nope' }))).toMatchObject({
      status: 400,
      body: { status: 400, code: 'MALFORMED_JSON' },
    });
    expect(
      await json(app.request('/refill', { method: 'POST', body: JSON.stringify({ water_ml: 'lots' }) })),
    ).toMatchObject({ status: 400, body: { status: 400, code: 'VALIDATION_FAILED' } });
    expect(sim.faults.list()).toEqual([]);
  });

  it('refills supplies and serves the payment and dispense logs', async () => {
    sim.model.levels.beans_g = 3;
    const refill = await json(
      app.request('/refill', { method: 'POST', body: JSON.stringify({ beans_g: 'full' }) }),
    );
    expect(refill.body).toMatchObject({ beans_g: 1000 });
    expect((await json(app.request('/payments'))).body).toMatchObject({
      orders: [],
      totals: { doubleCaptures: 0 },
    });
    expect((await json(app.request('/dispenses'))).body).toMatchObject({ count: 0, dispenses: [] });
  });

  it('stdin commands do the same', () => {
    expect(runCommand(sim, 'fault grinder_jam on')).toMatchObject({ ok: true, result: { active: true } });
    expect(sim.faults.isActive('grinder_jam')).toBe(true);
    expect(runCommand(sim, 'fault modbus_exception on unit=2 code=6')).toMatchObject({
      ok: true,
      result: { params: { unit: 2, code: 6 } },
    });
    expect(runCommand(sim, 'fault grinder_jam off')).toMatchObject({ ok: true, result: { active: false } });
    expect(runCommand(sim, 'fault nope on')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(runCommand(sim, 'refill water_ml=100')).toMatchObject({ ok: true, result: { water_ml: 100 } });
    expect(runCommand(sim, 'dance')).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(runCommand(sim, 'quit')).toBe('quit');
  });
});

describe('control API over HTTP', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ clock: new ManualClock(), pty: false, controlPort: 0 });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('answers errors as RFC 9457 problem+json with the catalogue status', async () => {
    const unknown = await fetch(`${sim.endpoints.control}/faults/coffee_rain`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(ProblemSchema.parse(await unknown.json())).toMatchObject({
      type: 'urn:crema:error:NOT_FOUND',
      title: ErrorCodes.NOT_FOUND.message,
      status: 404,
      code: 'NOT_FOUND',
      instance: '/faults/coffee_rain',
    });
    const route = await fetch(`${sim.endpoints.control}/nowhere`);
    expect([route.status, route.headers.get('content-type')]).toEqual([404, PROBLEM_CONTENT_TYPE]);
    const bad = await fetch(`${sim.endpoints.control}/refill`, { method: 'POST', body: '{nope' });
    expect(ProblemSchema.parse(await bad.json())).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
  });

  it('hides an unexpected failure behind INTERNAL, without its message', async () => {
    const list = sim.faults.list;
    sim.faults.list = () => {
      throw new TypeError('secret internals');
    };
    try {
      const res = await fetch(`${sim.endpoints.control}/faults`);
      expect([res.status, res.headers.get('content-type')]).toEqual([500, PROBLEM_CONTENT_TYPE]);
      const body = await res.text();
      expect(ProblemSchema.parse(JSON.parse(body))).toMatchObject({ code: 'INTERNAL' });
      expect(body).not.toContain('secret');
    } finally {
      sim.faults.list = list;
    }
  });
});
