import { BrewerDialect, BrewerStatusSchema, encodeFrame } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { LineClient } from './helpers/line-client';

describe('brewer over a real pseudo-terminal (serialport client)', () => {
  let sim: Simulator;
  let client: LineClient;

  beforeAll(async () => {
    sim = await startSimulator({ timeScale: 20, seed: 1, initialTempC: 92 });
    client = await LineClient.serial(sim.endpoints.serial.pty!, BrewerDialect);
  });
  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  it('answers PING, INFO and a STATUS that the protocol schema parses, with the model values', async () => {
    expect((await client.request('PING')).verb).toBe('OK');
    const info = await client.request('INFO');
    expect(info.args).toMatchObject({ fw: '1.4.2', model: 'cm-1' });
    const status = BrewerStatusSchema.parse((await client.request('STATUS')).args);
    expect(status).toMatchObject({
      state: 'idle',
      water_ml: 5000,
      cups: 100,
      cup: false,
      door: 'closed',
      faults: [],
    });
    expect(status.temp_c).toBeCloseTo(sim.model.tempC, 0);
  });

  it('makes a drink step by step, with progress events, and logs the dispense', async () => {
    const cupsBefore = sim.model.levels.cups;
    expect((await client.request('CUP')).verb).toBe('OK');
    await client.event('CUP', (a) => a.state === 'present');
    const grind = await client.request('GRIND', { g: 16 });
    expect(Number(grind.args.g)).toBeCloseTo(16, 0);
    const brew = await client.request('BREW', { ml: 30, temp_c: 92, bar: 9 });
    expect(brew.args).toMatchObject({ ml: '30', bar: '9' });
    await client.event('PROGRESS', (a) => a.op === 'BREW' && a.pct === 100);
    expect((await client.request('DISPENSE')).verb).toBe('OK');
    await client.event('CUP', (a) => a.state === 'removed');
    expect(sim.model.levels.cups).toBe(cupsBefore - 1);
    expect(sim.dispenses().at(-1)).toMatchObject({ coffeeMl: 30 });
  });

  it('answers BUSY while a long step runs, STATUS meanwhile, and ABORTED after STOP', async () => {
    await client.request('CUP');
    const water = client.send('WATER', { ml: 400 });
    await client.event('PROGRESS', (a) => a.op === 'WATER');
    expect((await client.request('GRIND', { g: 10 })).args).toMatchObject({ code: 'BUSY' });
    expect((await client.request('STATUS')).args.state).toBe('busy');
    expect((await client.request('STOP')).verb).toBe('OK');
    const reply = await client.waitFor((l) => l.frame?.kind === 'reply' && l.frame.id === water);
    expect(reply.frame).toMatchObject({ verb: 'ERR', args: { code: 'ABORTED' } });
    await client.request('DISPENSE');
  });

  it('answers bad arguments with BAD_ARGS and drops lines with a bad checksum', async () => {
    expect((await client.request('BREW', { ml: 30 })).args).toMatchObject({ code: 'BAD_ARGS' });
    expect((await client.request('HEAT', { temp_c: 150 })).args).toMatchObject({ code: 'BAD_ARGS' });
    const good = encodeFrame({ kind: 'request', id: 0x0777, verb: 'PING', args: {} });
    client.writeLine(good.replace(/\*[0-9A-F]{4}/, '*0000'));
    client.writeLine('complete nonsense\n');
    expect((await client.request('PING')).verb).toBe('OK');
    expect(client.lines.some((l) => l.frame?.id === 0x0777 && l.frame.kind === 'reply')).toBe(false);
  });
});
