/**
 * Round-trip latency of the simulator's ports on this machine: brewer PING over the pty and TCP, payment PING,
 * Modbus reads over TCP and RTU. Run: pnpm exec tsx firmware-sim/bench/roundtrip.ts [count]
 */
import { cpus, totalmem } from 'node:os';
import { BrewerDialect, PaymentDialect } from '@crema/protocol';
import { startSimulator } from '../src/index';
import { LineClient } from '../test/helpers/line-client';
import { closeClient, modbusRtuClient, modbusTcpClient } from '../test/helpers/modbus';

const count = Number(process.argv[2] ?? 500);

async function measure(name: string, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await op();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await op();
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const pct = (p: number) =>
    (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(2);
  console.log(
    `${name.padEnd(24)} n=${count}  p50=${pct(0.5)} ms  p99=${pct(0.99)} ms  ${((count / total) * 1000).toFixed(0)} req/s`,
  );
}

const sim = await startSimulator({ seed: 1, initialTempC: 92 });
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
);
const brewerPty = await LineClient.serial(sim.endpoints.serial.pty!, BrewerDialect);
const brewerTcp = await LineClient.tcp(sim.endpoints.serial.tcp, BrewerDialect);
const payment = await LineClient.tcp(sim.endpoints.payment.tcp, PaymentDialect);
const mbTcp = await modbusTcpClient(sim.endpoints.modbus.tcp);
const mbRtu = await modbusRtuClient(sim.endpoints.modbus.rtu!);
mbTcp.setID(2);
mbRtu.setID(2);
await measure('brewer PING (pty)', () => brewerPty.request('PING'));
await measure('brewer STATUS (tcp)', () => brewerTcp.request('STATUS'));
await measure('payment PING (tcp)', () => payment.request('PING'));
await measure('modbus FC4 x5 (tcp)', () => mbTcp.readInputRegisters(0, 5));
await measure('modbus FC4 x5 (rtu)', () => mbRtu.readInputRegisters(0, 5));
await Promise.all([
  brewerPty.close(),
  brewerTcp.close(),
  payment.close(),
  closeClient(mbTcp),
  closeClient(mbRtu),
]);
await sim.stop();
