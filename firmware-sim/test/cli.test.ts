import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BrewerDialect } from '@crema/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulatorEndpoints } from '../src/index';
import { LineClient } from './helpers/line-client';
import { closeClient, modbusTcpClient } from './helpers/modbus';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('pnpm sim (the CLI)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  });

  it('prints one ready line, serves its endpoints, takes faults from HTTP and stdin, and exits cleanly', async () => {
    const args = ['--import', 'tsx', 'firmware-sim/src/cli.ts', '--serial-port', '0', '--modbus-port', '0'];
    args.push(
      '--payment-port',
      '0',
      '--control-port',
      '0',
      '--model',
      'cm-1',
      '--seed',
      '42',
      '--time-scale',
      '10',
    );
    // Node itself, not through pnpm: pnpm 12 may answer a SIGTERM with its own 143 before its child has exited, and
    // the exit code asserted here is the simulator's. Its own process group, so the signal also reaches the socat
    // bridges, as Ctrl-C from a terminal would.
    const proc = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    child = proc;
    const stdoutLines: string[] = [];
    const ready = new Promise<SimulatorEndpoints & { event: string }>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        stdoutLines.push(line);
        if (stdoutLines.length === 1) resolve(JSON.parse(line));
      });
      proc.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
    });
    let stderr = '';
    proc.stderr!.on('data', (d) => {
      stderr += d;
    });
    const r = await ready;
    expect(r.event).toBe('ready');
    expect(r.modbus.unitIds).toEqual([1, 2, 3]);
    expect(r.serial.tcp).toMatch(/^127\.0\.0\.1:\d+$/);

    const brewer = await LineClient.serial(r.serial.pty!, BrewerDialect);
    expect((await brewer.request('INFO')).args).toMatchObject({ model: 'cm-1' });

    const res = await fetch(`${r.control}/faults/door_open`, { method: 'POST' });
    expect(res.status).toBe(200);
    await brewer.event('DOOR', (a) => a.state === 'open');
    expect((await brewer.request('CUP')).args).toMatchObject({ code: 'DOOR_OPEN' });

    proc.stdin!.write('fault water_empty on\n');
    await brewer.event('FAULT', (a) => a.code === 'water_empty');
    await expect.poll(() => stderr, { timeout: 5000 }).toContain('"name":"water_empty"');

    const modbus = await modbusTcpClient(r.modbus.tcp);
    modbus.setID(2);
    expect((await modbus.readInputRegisters(0, 1)).data).toEqual([0]);
    await closeClient(modbus);
    await brewer.close();

    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    process.kill(-proc.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(stdoutLines).toHaveLength(1);
    for (const p of [r.serial.pty!, r.payment.pty!, r.modbus.rtu!]) expect(existsSync(p)).toBe(false);
    const dir = r.serial.pty!.slice(0, r.serial.pty!.lastIndexOf('/'));
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes).not.toContain(dir);
  }, 60_000);

  it('refuses bad flags with a message and exit code 2, printing no ready line', async () => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'firmware-sim/src/cli.ts', '--time-scale', '-3'],
      {
        cwd: root,
      },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
    });
    proc.stderr.on('data', (d) => {
      stderr += d;
    });
    // 'close': the message written just before the exit is read by then (see scripts/fleet/fleet.test.ts).
    const code = await new Promise<number | null>((resolve) => proc.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--time-scale');
    expect(stdout).toBe('');
  }, 30_000);
});
