import { decodeRegister, Registers } from '@crema/protocol';
import type ModbusRTU from 'modbus-serial';
import { SerialPort } from 'serialport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { crc16Modbus } from '../src/modbus/crc';
import { ManualClock } from '../src/time/manual-clock';
import { closeClient, mbpoll, modbusRtuClient } from './helpers/modbus';

describe('Modbus RTU on a pseudo-terminal', () => {
  let sim: Simulator;
  let client: ModbusRTU;

  beforeAll(async () => {
    sim = await startSimulator({
      clock: new ManualClock(),
      initialTempC: 88.4,
      levels: { water_ml: 3210, beans_g: 543, milk_ml: 999, cups: 42, waste_g: 80 },
      controlPort: false,
    });
    client = await modbusRtuClient(sim.endpoints.modbus.rtu!);
  });
  afterEach(() => {
    for (const f of sim.faults.list()) sim.faults.clear(f.name);
  });
  afterAll(async () => {
    await closeClient(client);
    await sim?.stop();
  });

  it('reads every board with modbus-serial as the master', async () => {
    client.setID(1);
    expect(decodeRegister(Registers.boilerTemp, (await client.readInputRegisters(0, 1)).data)).toBeCloseTo(
      88.4,
      1,
    );
    client.setID(2);
    expect((await client.readInputRegisters(0, 5)).data).toEqual([3210, 543, 999, 42, 100]);
    client.setID(3);
    expect((await client.readDiscreteInputs(0, 3)).data.slice(0, 3)).toEqual([false, false, true]);
    expect((await client.readCoils(0, 2)).data.slice(0, 2)).toEqual([false, false]);
  });

  it('writes drive the model (FC 5, 6, 15, 16)', async () => {
    client.setID(1);
    await client.writeRegister(0, 900);
    expect(sim.model.physics.targetC).toBeCloseTo(90, 5);
    await client.writeCoils(2, [true, true]);
    expect(sim.model.actuators).toMatchObject({ brewValve: true, steamValve: true });
    await client.writeCoil(2, false);
    expect(sim.model.actuators.brewValve).toBe(false);
    client.setID(2);
    await client.writeRegisters(2, [2500, 150]);
    expect(sim.model.capacity).toMatchObject({ milk_ml: 2500, cups: 150 });
    client.setID(3);
    await client.writeCoil(1, true);
    expect(sim.model.actuators.cupLight).toBe(true);
  });

  it('answers exceptions, and stays silent for other units and injected timeouts', async () => {
    client.setID(2);
    await expect(client.readInputRegisters(30, 1)).rejects.toMatchObject({ modbusCode: 2 });
    client.setID(1);
    await expect(client.writeRegister(0, 5)).rejects.toMatchObject({ modbusCode: 3 });
    sim.faults.inject('modbus_exception', { code: 4 });
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 4 });
    sim.faults.clear('modbus_exception');
    sim.faults.inject('modbus_timeout', { unit: 1 });
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ errno: 'ETIMEDOUT' });
    sim.faults.clear('modbus_timeout');
    client.setID(7);
    await expect(client.readInputRegisters(0, 1)).rejects.toMatchObject({ errno: 'ETIMEDOUT' });
    client.setID(2);
    expect((await client.readInputRegisters(3, 1)).data).toEqual([42]);
  });

  it('mbpoll in RTU mode reads the values the model holds', async () => {
    await closeClient(client);
    const regs = await mbpoll([
      '-m',
      'rtu',
      '-b',
      '19200',
      '-P',
      'none',
      '-a',
      '2',
      '-t',
      '3',
      '-r',
      '1',
      '-c',
      '4',
      '-1',
      sim.endpoints.modbus.rtu!,
    ]);
    const l = sim.model.sensedLevels();
    expect([...regs.values()]).toEqual([l.water_ml, l.beans_g, l.milk_ml, l.cups]);
    client = await modbusRtuClient(sim.endpoints.modbus.rtu!);
  });

  it('ignores a frame with a bad CRC and answers the next good one', async () => {
    await closeClient(client);
    const port = new SerialPort({ path: sim.endpoints.modbus.rtu!, baudRate: 19200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const received: Buffer[] = [];
    port.on('data', (d: Buffer) => received.push(d));
    const frame = (body: number[]) => {
      const b = Buffer.from(body);
      const crc = crc16Modbus(b);
      return Buffer.concat([b, Buffer.from([crc & 0xff, crc >> 8])]);
    };
    const request = frame([2, 4, 0, 3, 0, 1]);
    const corrupt = Buffer.from(request);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    port.write(corrupt);
    await new Promise((r) => setTimeout(r, 150));
    expect(Buffer.concat(received)).toHaveLength(0);
    port.write(request);
    await expect.poll(() => Buffer.concat(received).length).toBe(7);
    const reply = Buffer.concat(received);
    expect([...reply.subarray(0, 5)]).toEqual([2, 4, 2, 0, 42]);
    expect(crc16Modbus(reply.subarray(0, 5))).toBe(reply.readUInt16LE(5));
    await new Promise<void>((resolve) => port.close(() => resolve()));
    client = await modbusRtuClient(sim.endpoints.modbus.rtu!);
  });
});
