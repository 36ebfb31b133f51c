import { createConnection } from 'node:net';
import { BrewerDialect, BrewerStatusSchema } from '@crema/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { LineClient } from './helpers/line-client';

/** Every brewer fault, injected while running, as the agent sees it on the line (here: the TCP gateway). */
describe('brewer faults on the wire', () => {
  let sim: Simulator;
  let client: LineClient;

  beforeAll(async () => {
    sim = await startSimulator({ timeScale: 50, seed: 3, initialTempC: 92, pty: false, controlPort: false });
    client = await LineClient.tcp(sim.endpoints.serial.tcp, BrewerDialect);
    await client.event('READY');
  });
  afterEach(async () => {
    for (const f of sim.faults.list()) sim.faults.clear(f.name);
    await client.request('STOP');
    await client.request('RESET');
    sim.model.refill();
    if (sim.model.cupPresent) await client.request('DISPENSE');
  });
  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  const status = async () => BrewerStatusSchema.parse((await client.request('STATUS')).args);

  const cases = [
    {
      fault: 'water_empty',
      needsCup: true,
      verb: 'BREW',
      args: { ml: 30, temp_c: 92, bar: 9 },
      code: 'EMPTY',
    },
    { fault: 'beans_empty', needsCup: true, verb: 'GRIND', args: { g: 18 }, code: 'EMPTY' },
    {
      fault: 'milk_empty',
      needsCup: true,
      verb: 'MILK',
      args: { ml: 100, temp_c: 60, foam: 1 },
      code: 'EMPTY',
    },
    { fault: 'cups_empty', needsCup: false, verb: 'CUP', args: {}, code: 'EMPTY' },
    { fault: 'grinder_jam', needsCup: true, verb: 'GRIND', args: { g: 18 }, code: 'FAULT' },
    { fault: 'boiler_overheat', needsCup: false, verb: 'HEAT', args: { temp_c: 93 }, code: 'FAULT' },
    {
      fault: 'pump_fault',
      needsCup: true,
      verb: 'BREW',
      args: { ml: 30, temp_c: 92, bar: 9 },
      code: 'FAULT',
    },
    { fault: 'waste_full', needsCup: true, verb: 'GRIND', args: { g: 18 }, code: 'FAULT' },
    { fault: 'door_open', needsCup: false, verb: 'CUP', args: {}, code: 'DOOR_OPEN' },
  ] as const;

  for (const c of cases) {
    it(`${c.fault}: FAULT event, listed in STATUS, ${c.verb} answers ${c.code}`, async () => {
      if (c.needsCup) await client.request('CUP');
      sim.faults.inject(c.fault);
      await client.event('FAULT', (a) => a.code === c.fault);
      expect((await status()).faults).toContain(c.fault);
      const reply = await client.request(c.verb, c.args);
      expect(reply.verb).toBe('ERR');
      expect(reply.args).toMatchObject({ code: c.code, fault: c.fault });
      sim.faults.clear(c.fault);
      await client.request('RESET');
      await client.event('CLEAR', (a) => a.code === c.fault);
      expect((await status()).faults).not.toContain(c.fault);
    });
  }

  it('door_open: DOOR events and the door in STATUS', async () => {
    sim.faults.inject('door_open');
    await client.event('DOOR', (a) => a.state === 'open');
    expect((await status()).door).toBe('open');
    sim.faults.clear('door_open');
    await client.event('DOOR', (a) => a.state === 'closed');
  });

  it('no_cup: CUP answers NO_CUP, a cup in place is lost mid-brew', async () => {
    sim.faults.inject('no_cup');
    expect((await client.request('CUP')).args).toMatchObject({ code: 'NO_CUP' });
    sim.faults.clear('no_cup');
    expect((await client.request('CUP')).verb).toBe('OK');
    const brew = client.send('BREW', { ml: 200, temp_c: 92, bar: 9 });
    await client.event('PROGRESS', (a) => a.op === 'BREW');
    sim.faults.inject('no_cup');
    await client.event('CUP', (a) => a.state === 'removed');
    const reply = await client.waitFor((l) => l.frame?.kind === 'reply' && l.frame.id === brew);
    expect(reply.frame?.args).toMatchObject({ code: 'NO_CUP' });
    expect((await status()).faults).toContain('no_cup');
  });

  it('serial_corrupt: replies arrive with a wrong checksum until cleared', async () => {
    sim.faults.inject('serial_corrupt');
    const id = client.send('PING');
    const bad = await client.waitFor((l) =>
      l.raw.startsWith(`<${id.toString(16).toUpperCase().padStart(4, '0')}`),
    );
    expect(bad.error).toBe('LINE_BAD_CHECKSUM');
    sim.faults.clear('serial_corrupt');
    expect((await client.request('PING')).verb).toBe('OK');
  });

  it('serial_garbage: a line of noise comes before every reply', async () => {
    sim.faults.inject('serial_garbage');
    const before = client.lines.length;
    expect((await client.request('PING')).verb).toBe('OK');
    const fresh = client.lines.slice(before);
    expect(fresh.some((l) => l.error !== undefined)).toBe(true);
  });

  it('serial_slow: replies are held back for the given simulated time', async () => {
    sim.faults.inject('serial_slow', { ms: 50_000 });
    const t0 = sim.model.clock.now();
    expect((await client.request('PING')).verb).toBe('OK');
    expect(sim.model.clock.now() - t0).toBeGreaterThanOrEqual(50_000);
  });

  it('brewer_link_down: connections drop and the port refuses, then READY after restore', async () => {
    const other = await LineClient.tcp(sim.endpoints.serial.tcp, BrewerDialect);
    await other.event('READY');
    sim.faults.inject('brewer_link_down');
    await expect(other.request('PING', {}, 1500)).rejects.toThrow();
    const [host, port] = sim.endpoints.serial.tcp.split(':');
    const refused = await new Promise<boolean>((resolve) => {
      setTimeout(() => {
        const s = createConnection({ host, port: Number(port) });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', () => resolve(true));
      }, 200);
    });
    expect(refused).toBe(true);
    sim.faults.clear('brewer_link_down');
    let again: LineClient | undefined;
    for (let i = 0; i < 20 && !again; i++) {
      again = await LineClient.tcp(sim.endpoints.serial.tcp, BrewerDialect).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    await again!.event('READY');
    expect((await again!.request('PING')).verb).toBe('OK');
    await again!.close();
    await other.close();
    client = await LineClient.tcp(sim.endpoints.serial.tcp, BrewerDialect);
  });
});
