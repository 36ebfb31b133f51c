import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = resolve(import.meta.dirname, '../src/cli.ts');
const TSX = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');

/** `pnpm hub` as a user runs it: a fresh directory, nothing configured except free ports. */
describe('hub CLI', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'crema-hub-cli-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts with no configuration, prints one ready line, and stops on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CREMA_HUB_PORT: '0', CREMA_MQTT_PORT: '0' };
    for (const key of [
      'CREMA_ADMIN_PASSWORD',
      'CREMA_ADMIN_EMAIL',
      'CREMA_JWT_SECRET',
      'CREMA_DATABASE_URL',
    ]) {
      delete env[key];
    }
    const proc = spawn(TSX, [CLI, '--'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const line = await new Promise<string>((done, fail) => {
      proc.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('\n')) done(stdout.split('\n')[0] ?? '');
      });
      proc.once('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
    });
    const ready = JSON.parse(line);
    expect(Object.keys(ready)).toEqual(['event', 'http', 'mqtt', 'docs']);
    expect(ready.event).toBe('ready');
    expect(ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.docs).toBe(`${ready.http}/api/docs`);
    expect((await fetch(`${ready.http}/readyz`)).status).toBe(200);

    expect(existsSync(join(cwd, '.crema/hub/hub.sqlite'))).toBe(true);
    expect(statSync(join(cwd, '.crema/hub/jwt-secret')).mode & 0o777).toBe(0o600);
    const password = /generated password: (\S+)/.exec(stderr)?.[1];
    expect(password).toBeDefined();
    const login = await fetch(`${ready.http}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@crema.local', password }),
    });
    expect(login.status).toBe(200);

    const exit = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
    proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('refuses a bad flag with a clear message and exit code 2', async () => {
    const proc = spawn(TSX, [CLI, '--port', 'eighty'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // 'close': the message written just before the exit is read by then (see scripts/fleet/fleet.test.ts).
    const code = await new Promise<number | null>((done) => proc.once('close', (c) => done(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('CONFIG_INVALID');
    expect(stderr).toContain('port');
  }, 60_000);
});
