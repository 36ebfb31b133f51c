import { decodeRegister, FaultBits, Registers } from '@crema/protocol';
import type ModbusRTU from 'modbus-serial';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { ManualClock } from '../src/time/manual-clock';
import { closeClient, mbpoll, modbusTcpClient } from './helpers/modbus';

describe('Modbus TCP', () => {
  let sim: Simulator;
  let client: ModbusRTU;
  const clock = new ManualClock();

  beforeAll(async () => {
    // A clock that never advances keeps the model still, so wire values can be compared exactly.
    sim = await startSimulator({
      clock,
      pty: false,
      initialTempC: 91.7,
      levels: { water_ml: 4321, beans_g: 876, milk_ml: 1234, cups: 77, waste_g: 200 },
    });
    sim.model.counters.brewCount = 70_000;
    client = await modbusTcpClient(sim.endpoints.modbus.tcp);
  });
  afterEach(() => {
    for (const f of sim.faults.list()) sim.faults.clear(f.name);
  });
  afterAll(async () => {
    await closeClient(client);
    await sim?.stop();
  });

  it('serves the register map of all three boards with the values the model holds', async () => {
    client.setID(1);
    const boiler = (await client.readInputRegisters(0, 2)).data;
    expect(decodeRegister(Registers.boilerTemp, boiler.slice(0, 1))).toBeCloseTo(sim.model.tempC, 1);
    expect(decodeRegister(Registers.boilerTemp, boiler.slice(0, 1))).toBeCloseTo(91.7, 1);
    expect(decodeRegister(Registers.brewCount, (await client.readInputRegisters(20, 2)).data)).toBe(70_000);
    expect(decodeRegister(Registers.boilerTarget, (await client.readHoldingRegisters(0, 1)).data)).toBe(92);
    expect((await client.readCoils(0, 4)).data.slice(0, 4)).toEqual([true, false, false, false]);
    client.setID(2);
    expect((await client.readInputRegisters(0, 5)).data).toEqual([4321, 876, 1234, 77, 250]);
    expect((await client.readHoldingRegisters(0, 4)).data).toEqual([5000, 1000, 2000, 100]);
    client.setID(3);
    expect((await client.readDiscreteInputs(0, 3)).data.slice(0, 3)).toEqual([false, false, true]);
  });

  it('reads reflect the model live and writes drive it', async () => {
    client.setID(2);
    sim.model.refill({ water_ml: 1500 });
    expect((await client.readInputRegisters(0, 1)).data).toEqual([1500]);
    client.setID(1);
    await client.writeRegister(0, 935);
    expect(sim.model.physics.targetC).toBeCloseTo(93.5, 5);
    await client.writeCoil(0, false);
    expect(sim.model.physics.heaterEnabled).toBe(false);
    await client.writeCoils(0, [true, true]);
    expect(sim.model.physics.heaterEnabled).toBe(true);
    expect(sim.model.actuators.pump).toBe(true);
    await client.writeCoil(1, false);
    client.setID(2);
    await client.writeRegisters(0, [6000, 1200]);
    expect(sim.model.capacity).toMatchObject({ water_ml: 6000, beans_g: 1200 });
    const cups = sim.model.levels.cups;
    await client.writeCoil(2, true);
    expect(sim.model.levels.cups).toBe(cups - 1);
    client.setID(3);
    expect((await client.readDiscreteInputs(0, 1)).data[0]).toBe(true);
    sim.model.cupPresent = false;
  });

  it('answers illegal addresses, values and unknown units with exception codes', async () => {
    client.setID(1);
    await expect(client.readInputRegisters(24, 1)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(client.readDiscreteInputs(0, 1)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(client.writeRegister(0, 2000)).rejects.toMatchObject({ modbusCode: 3 });
    client.setID(9);
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 11 });
  });

  it('fault bits show the machine faults per board', async () => {
    sim.faults.inject('water_empty');
    sim.faults.inject('door_open');
    client.setID(2);
    expect((await client.readInputRegisters(10, 1)).data[0]! & (1 << FaultBits.water_empty)).not.toBe(0);
    expect((await client.readInputRegisters(0, 1)).data[0]).toBe(0);
    client.setID(3);
    expect((await client.readInputRegisters(10, 1)).data[0]).toBe(1 << FaultBits.door_open);
    expect((await client.readDiscreteInputs(1, 1)).data[0]).toBe(true);
  });

  it('modbus_exception and modbus_timeout act on one unit or on all', async () => {
    sim.faults.inject('modbus_exception', { unit: 2, code: 6 });
    client.setID(2);
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 6 });
    client.setID(1);
    expect((await client.readInputRegisters(0, 1)).data).toHaveLength(1);
    sim.faults.clear('modbus_exception');
    sim.faults.inject('modbus_timeout', { unit: 3 });
    client.setID(3);
    await expect(client.readDiscreteInputs(0, 1)).rejects.toMatchObject({ errno: 'ETIMEDOUT' });
    client.setID(2);
    expect((await client.readInputRegisters(3, 1)).data).toHaveLength(1);
  });

  it('mbpoll (an independent Modbus implementation) reads the values the model holds', async () => {
    const [host, port] = sim.endpoints.modbus.tcp.split(':') as [string, string];
    const supply = await mbpoll([
      '-m',
      'tcp',
      '-p',
      port,
      '-a',
      '2',
      '-t',
      '3',
      '-r',
      '1',
      '-c',
      '5',
      '-1',
      host,
    ]);
    const levels = sim.model.sensedLevels();
    expect([...supply.values()]).toEqual([
      Math.round(levels.water_ml),
      Math.round(levels.beans_g),
      Math.round(levels.milk_ml),
      levels.cups,
      Math.round(sim.model.wastePct() * 10),
    ]);
    const boiler = await mbpoll([
      '-m',
      'tcp',
      '-p',
      port,
      '-a',
      '1',
      '-t',
      '3',
      '-r',
      '1',
      '-c',
      '2',
      '-1',
      host,
    ]);
    expect(boiler.get(1)).toBe(Math.round(sim.model.tempC * 10));
    expect(boiler.get(2)).toBe(Math.round(sim.model.pressureBar * 100));
  });

  it('modbus_link_down closes the port; clearing it brings Modbus TCP back on the same port', async () => {
    sim.faults.inject('modbus_link_down');
    await expect
      .poll(async () =>
        modbusTcpClient(sim.endpoints.modbus.tcp)
          .then(closeClient)
          .then(
            () => 'up',
            () => 'down',
          ),
      )
      .toBe('down');
    sim.faults.clear('modbus_link_down');
    let again: ModbusRTU | undefined;
    await expect
      .poll(async () => {
        again = await modbusTcpClient(sim.endpoints.modbus.tcp).catch(() => undefined);
        return again !== undefined;
      })
      .toBe(true);
    again!.setID(2);
    expect((await again!.readInputRegisters(3, 1)).data).toEqual([sim.model.levels.cups]);
    await closeClient(again);
    client = await modbusTcpClient(sim.endpoints.modbus.tcp);
  });
});
