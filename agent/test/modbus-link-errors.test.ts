import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ModbusSerialLink } from '../src/drivers/modbus/link';

/** A socat pty pair; killing it is what an unplugged USB adapter looks like to the open port. */
async function ptyPair(dir: string): Promise<{ agentPath: string; kill(): Promise<void>; killNow(): void }> {
  const agentPath = join(dir, 'agent');
  const child: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${join(dir, 'device')}`, `pty,raw,echo=0,link=${agentPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('starting data transfer loop')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`socat exited ${code}: ${text}`)));
  });
  return {
    agentPath,
    killNow: () => {
      execFileSync('sh', [
        '-c',
        `kill -9 ${child.pid}; while grep -qv "^[0-9]* ([^)]*) Z" /proc/${child.pid}/stat 2>/dev/null; do :; done`,
      ]);
    },
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('Modbus RTU link on a line that dies', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('survives the port reporting EIO, fails the request, and opens the line again when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-modbus-eio-'));
    dirs.push(dir);
    let pair = await ptyPair(dir);
    const link = new ModbusSerialLink(
      {
        transport: 'rtu',
        path: pair.agentPath,
        baudRate: 19_200,
        pollIntervalMs: 1000,
        timeoutMs: 20,
      },
      20,
    );
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      // Nobody answers on the far end: the request times out, but the port is open.
      await expect(link.read(1, 'holding', 0, 1)).rejects.toBeDefined();
      for (let round = 0; round < 5; round += 1) {
        // The line dies while the event loop is busy, so the port hears of the hangup only after the next
        // request has written to it: that write fails with EIO, which the port emits as an 'error' event.
        pair.killNow();
        await expect(link.read(1, 'holding', 0, 1)).rejects.toBeDefined();
        pair = await ptyPair(dir);
      }
      expect(errors).toEqual([]);

      // The request reaches the new line (and times out there, nobody answers) rather than failing to open it.
      const failure = () =>
        link.read(1, 'holding', 0, 1).then(
          () => 'answered',
          (e: { message?: string }) => e.message ?? '',
        );
      await waitFor(
        async () => /timed out/i.test(await failure()),
        5_000,
        'a request that reaches the restored line',
      );
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await link.close();
      await pair.kill();
    }
  }, 30_000);
});
