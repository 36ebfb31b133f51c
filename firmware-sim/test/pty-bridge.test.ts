import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteStream } from '../src/link/stream';
import { silentLogger } from '../src/log';
import { SerialEndpoint } from '../src/ports/serial-endpoint';

const until = (cond: () => boolean, what: string, timeoutMs = 8000) => waitFor(cond, timeoutMs, what);

/** Opens the agent's end of the pty and returns what one line written to it gets back. */
async function echoThrough(path: string, text: string): Promise<string> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('error', () => {});
  try {
    let got = '';
    port.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    port.write(`${text}\n`);
    await until(() => got.includes('\n'), `echo on ${path}`);
    return got.trim();
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

describe('SerialEndpoint (real socat pty)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('notices that its pty bridge died and restarts it under the same path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-pty-test-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const streams: ByteStream[] = [];
    const onStream = (s: ByteStream) => {
      streams.push(s);
      s.onData((chunk) => s.write(chunk.toString('latin1').toUpperCase()));
    };
    const endpoint = new SerialEndpoint(join(dir, 'brewer'), 115200, onStream, silentLogger);
    await endpoint.start();
    cleanup.push(() => endpoint.stop());
    expect(await echoThrough(endpoint.path, 'ping one')).toBe('PING ONE');

    const pid = endpoint.bridgePid;
    expect(pid).toBeGreaterThan(0);
    // The bridge dies on its own, as when socat crashes: not through stop().
    process.kill(pid as number, 'SIGKILL');
    await until(() => endpoint.restarts === 1, 'bridge restart');
    expect(endpoint.bridgePid).not.toBe(pid);
    expect(streams).toHaveLength(2);
    expect(await echoThrough(endpoint.path, 'ping two')).toBe('PING TWO');

    // A deliberate stop is not a death: nothing comes back.
    await endpoint.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(endpoint.restarts).toBe(1);
    expect(endpoint.bridgePid).toBeUndefined();
  }, 20_000);
});
