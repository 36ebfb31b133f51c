import { type Alarm, FaultBits, type MaterialLevels, type Telemetry } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { FakeBrewer } from '../drivers/brewer/fake-brewer';
import { ModbusBoards } from '../drivers/modbus/boards';
import { FakeModbusLink } from '../drivers/modbus/fake-link';
import { silentLogger } from '../log/logger';
import { FakeClock } from '../time/fake-clock';
import { AlarmDetector } from './alarms';
import { Bins, BinsConfigSchema } from './bins';
import { MaterialsReporter } from './materials';
import type { MonitorSink } from './sink';
import { TelemetrySampler } from './telemetry';

async function setup() {
  const clock = new FakeClock();
  const link = new FakeModbusLink();
  link.set('boilerTemp', 92.5);
  link.set('pressure', 9);
  link.set('waterLevel', 1500);
  link.set('waterCapacity', 2000);
  link.set('beansLevel', 400);
  link.set('beansCapacity', 1000);
  link.set('milkLevel', 800);
  link.set('milkCapacity', 1000);
  link.set('cupsLevel', 40);
  link.set('cupsCapacity', 100);
  link.set('wasteLevel', 20);
  const boards = new ModbusBoards({
    link,
    clock,
    logger: silentLogger,
    breaker: { failureThreshold: 2, coolDownMs: 5000 },
  });
  await boards.start();
  const brewer = new FakeBrewer();
  const payment = { connected: true };
  const out: Array<{ type: string; body: unknown }> = [];
  const sink: MonitorSink = (type: string, body: unknown) => out.push({ type, body });
  const alarms = () => out.filter((o) => o.type === 'alarm').map((o) => o.body as Alarm);
  const poll = (n = 1) => clock.advance(1000 * n);
  return { clock, link, boards, brewer, payment, sink, out, alarms, poll };
}

describe('TelemetrySampler', () => {
  it('samples values, board health and links every interval', async () => {
    const s = await setup();
    const sampler = new TelemetrySampler({
      boards: s.boards,
      links: { brewer: s.brewer, payment: s.payment },
      clock: s.clock,
      logger: silentLogger,
      sink: s.sink,
      intervalMs: 10_000,
    });
    sampler.start();
    s.payment.connected = false;
    await s.clock.advance(20_000);
    const sent = s.out.filter((o) => o.type === 'telemetry').map((o) => o.body as Telemetry);
    expect(sent).toHaveLength(2);
    const metrics = Object.fromEntries(sent[0]?.samples.map((x) => [x.metric, x.value]) ?? []);
    expect(metrics).toMatchObject({
      boiler_temp_c: 92.5,
      pressure_bar: 9,
      water_level_ml: 1500,
      board_boiler_up: 1,
      brewer_connected: 1,
      payment_connected: 0,
    });
    sampler.stop();
  });
});

describe('MaterialsReporter', () => {
  it('reports each bin, with its default material, against its capacity', async () => {
    const s = await setup();
    const body = new MaterialsReporter({ boards: s.boards, clock: s.clock, sink: s.sink }).report();
    expect(body?.levels).toEqual([
      { bin: 1, material: 'water', level: 1500, capacity: 2000, unit: 'ml' },
      { bin: 2, material: 'beans', level: 400, capacity: 1000, unit: 'g' },
      { bin: 3, material: 'milk', level: 800, capacity: 1000, unit: 'ml' },
      { bin: 4, material: 'cups', level: 40, capacity: 100, unit: 'pcs' },
      { bin: 5, material: 'waste', level: 20, capacity: 100, unit: 'pct' },
    ]);
    expect((s.out[0]?.body as MaterialLevels | undefined)?.at).toBe(s.clock.now());
  });
});

describe('AlarmDetector', () => {
  async function detector(bins?: Bins) {
    const s = await setup();
    const d = new AlarmDetector({
      boards: s.boards,
      brewer: s.brewer,
      payment: s.payment,
      clock: s.clock,
      logger: silentLogger,
      sink: s.sink,
      offlineGraceMs: 5000,
      ...(bins ? { bins } : {}),
    });
    d.start();
    return { ...s, d };
  }

  it('raises a low level once and clears it only above low + margin', async () => {
    const s = await detector();
    for (const level of [480, 450, 520, 690, 450]) {
      s.link.set('waterLevel', level);
      await s.poll();
    }
    expect(s.alarms().map((a) => [a.code, a.state, a.value])).toEqual([['water_low', 'raised', 480]]);
    s.link.set('waterLevel', 700);
    await s.poll();
    expect(s.alarms().map((a) => [a.code, a.state])).toEqual([
      ['water_low', 'raised'],
      ['water_low', 'cleared'],
    ]);
    expect(s.d.active()).toEqual([]);
  });

  it('names the material bound to a sensed bin in its low alarm, keeping the code of the bin', async () => {
    const oat = new Bins(
      BinsConfigSchema.parse(undefined).map((b) => (b.bin === 3 ? { ...b, material: 'oat_milk' } : b)),
    );
    const s = await detector(oat);
    s.link.set('milkLevel', 150);
    s.link.set('waterLevel', 400);
    await s.poll();
    expect(s.alarms().map((a) => [a.code, a.message])).toEqual([
      ['water_low', 'water level 400 below 500'],
      ['milk_low', 'oat_milk (bin 3) level 150 below 200'],
    ]);
  });

  it('follows fault bits and brewer FAULT/CLEAR, clearing only when no source is left', async () => {
    const s = await detector();
    s.link.set('boilerFaults', 1 << FaultBits.pump_fault);
    await s.poll();
    s.brewer.emit({ type: 'fault', code: 'pump_fault' });
    s.link.set('boilerFaults', 0);
    await s.poll();
    expect(s.d.active().map((a) => a.code)).toEqual(['pump_fault']);
    s.brewer.emit({ type: 'clear', code: 'pump_fault' });
    expect(s.alarms().map((a) => `${a.code}:${a.state}:${a.severity}`)).toEqual([
      'pump_fault:raised:critical',
      'pump_fault:cleared:critical',
    ]);
  });

  it('raises offline alarms for a board, the brewer and the payment terminal after the grace time', async () => {
    const s = await detector();
    s.link.dead.add(2);
    s.brewer.connected = false;
    s.payment.connected = false;
    await s.poll(3);
    // The board's breaker is its own grace time; the links wait for offlineGraceMs.
    expect(s.alarms().map((a) => a.code)).toEqual(['board_offline']);
    await s.poll(4);
    expect(
      s.d
        .active()
        .map((a) => a.code)
        .sort(),
    ).toEqual(['board_offline', 'brewer_offline', 'payment_terminal_offline']);
    expect(s.d.active().find((a) => a.code === 'board_offline')?.message).toBe('board supply offline');
    s.link.dead.delete(2);
    s.brewer.connected = true;
    await s.poll(6);
    expect(s.d.active().map((a) => a.code)).toEqual(['payment_terminal_offline']);
    s.d.stop();
  });

  it('says in the brewer_offline alarm that a different brewer was refused', async () => {
    const s = await detector();
    s.brewer.connected = false;
    s.brewer.refusal = {
      expected: { serial: 'SIM-CM-1-00011', model: 'cm-1' },
      found: { serial: 'SIM-CM-1-00012', model: 'cm-1' },
      at: s.clock.now(),
    };
    await s.poll(6);
    expect(s.d.active().find((a) => a.code === 'brewer_offline')?.message).toMatch(
      /different brewer \(serial SIM-CM-1-00012\) answers; this machine's is SIM-CM-1-00011/,
    );
    s.d.stop();
  });

  it('keeps board_offline raised through the breaker half-open probes while the board stays dead', async () => {
    const s = await detector();
    s.link.dead.add(2);
    // Cool-down 5 s: about ten failed probes in a minute, each seen by snapshots of the live boards.
    await s.poll(60);
    const probes = s.link.calls.filter((c) => c.startsWith('read 2 ')).length;
    expect(probes).toBeGreaterThan(8);
    const offline = s.alarms().filter((a) => a.code === 'board_offline');
    expect(offline.map((a) => a.state)).toEqual(['raised']);
    const telemetry = new TelemetrySampler({
      boards: s.boards,
      links: {},
      clock: s.clock,
      logger: silentLogger,
      sink: s.sink,
    });
    for (let i = 0; i < 12; i++) {
      await s.clock.advance(500);
      const up = telemetry.sample().samples.find((x) => x.metric === 'board_supply_up');
      expect(up?.value).toBe(0);
    }
    s.link.dead.delete(2);
    await s.poll(6);
    expect(
      s
        .alarms()
        .filter((a) => a.code === 'board_offline')
        .map((a) => a.state),
    ).toEqual(['raised', 'cleared']);
    s.d.stop();
  });
});
