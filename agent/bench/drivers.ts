/**
 * Driver round-trip figures against the simulator: brewer PING over a pseudo-terminal and over TCP, and one
 * Modbus block read over RTU and TCP. Prints p50/p99 in milliseconds. Run: pnpm exec tsx agent/bench/drivers.ts
 */
import { performance } from 'node:perf_hooks';
import { startSimulator } from '@crema/firmware-sim';
import { SerialBrewer } from '../src/drivers/brewer/serial-brewer';
import type { Transport } from '../src/drivers/brewer/types';
import { ModbusSerialLink } from '../src/drivers/modbus/link';
import { SerialTransport } from '../src/drivers/transport/serial';
import { TcpTransport } from '../src/drivers/transport/tcp';
import { silentLogger } from '../src/log/logger';
import { systemClock } from '../src/time/clock';

const N = Number(process.env.N ?? 500);

function percentiles(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(2);
  return `n=${s.length} p50=${at(0.5)} ms p99=${at(0.99)} ms max=${at(1)} ms`;
}

async function timeIt(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    out.push(performance.now() - t0);
  }
  return out;
}

async function brewerPing(name: string, transport: Transport): Promise<void> {
  const brewer = new SerialBrewer({ transport, clock: systemClock, logger: silentLogger });
  await brewer.start();
  await timeIt(20, () => brewer.request('PING'));
  console.log(`brewer PING over ${name}: ${percentiles(await timeIt(N, () => brewer.request('PING')))}`);
  console.log(`brewer STATUS over ${name}: ${percentiles(await timeIt(N, () => brewer.status()))}`);
  await brewer.stop();
}

const sim = await startSimulator({ controlPort: false, seed: 3, initialTempC: 93 });
try {
  const [host = '', port = ''] = sim.endpoints.serial.tcp.split(':');
  await brewerPing('pty (serialport)', new SerialTransport(sim.endpoints.serial.pty ?? ''));
  await brewerPing('tcp', new TcpTransport(host, Number(port)));
  const config = {
    transport: 'rtu',
    path: sim.endpoints.modbus.rtu ?? '',
    baudRate: 19_200,
    pollIntervalMs: 1000,
    timeoutMs: 500,
  } as const;
  const link = new ModbusSerialLink(config, 500);
  const reads = await timeIt(Math.min(N, 200), () => link.read(1, 'input', 0, 24));
  console.log(`modbus RTU read of 24 input registers @19200: ${percentiles(reads)}`);
  await link.close();
  const [mhost = '', mport = ''] = sim.endpoints.modbus.tcp.split(':');
  const tcpLink = new ModbusSerialLink(
    { transport: 'tcp', host: mhost, port: Number(mport), pollIntervalMs: 1000, timeoutMs: 500 },
    500,
  );
  const tcpReads = await timeIt(Math.min(N, 200), () => tcpLink.read(1, 'input', 0, 24));
  console.log(`modbus TCP read of 24 input registers: ${percentiles(tcpReads)}`);
  await tcpLink.close();
} finally {
  await sim.stop();
}
