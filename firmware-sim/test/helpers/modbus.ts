import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import ModbusRTU from 'modbus-serial';

export async function modbusTcpClient(address: string): Promise<ModbusRTU> {
  const [host, port] = address.split(':');
  const client = new ModbusRTU();
  await client.connectTCP(host ?? '127.0.0.1', { port: Number(port) });
  client.setTimeout(1000);
  return client;
}

export async function modbusRtuClient(path: string): Promise<ModbusRTU> {
  const client = new ModbusRTU();
  await client.connectRTUBuffered(path, { baudRate: 19200 });
  client.setTimeout(1000);
  return client;
}

export function closeClient(client: ModbusRTU | undefined): Promise<void> {
  return new Promise((resolve) => (client?.isOpen ? client.close(() => resolve()) : resolve()));
}

/** Debian's mbpoll, an independent Modbus implementation: returns the values it printed, by 1-based reference. */
export async function mbpoll(args: string[]): Promise<Map<number, number>> {
  const { stdout } = await promisify(execFile)('mbpoll', args, { timeout: 10_000 });
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}
