import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, repoRoot, spawnAgent, writeConfig } from './support';

const dir = mkdtempSync(join(tmpdir(), 'crema-cli-'));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'agent/src/cli.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

describe('agent CLI', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an unknown flag with exit 2, the flag and the usage', () => {
    const r = run(['--', '--confg', 'x.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("CONFIG_INVALID: Unknown option '--confg'");
    expect(r.stderr).toContain('usage: pnpm agent');
  }, 30_000);

  it('stops on a bad configuration with the fields to fix and no stack trace', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ deviceId: 'Not Valid', dataDir: dir, api: { port: 99999 } }));
    const r = run(['--', '--config', file], { CREMA_AGENT_CURRENCY: 'euro' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toContain('deviceId:');
    expect(r.stderr).toContain('api.port:');
    expect(r.stderr).toContain('currency:');
    expect(r.stderr).toContain('drivers:');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  it('prints one ready line, serves the API, and stops cleanly on SIGTERM', async () => {
    // drivers point at a closed port: the agent still starts and reports them down
    const closed = { transport: 'tcp' as const, host: '127.0.0.1', port: 1 };
    const file = writeConfig(dir, {
      deviceId: 'cli-test',
      dataDir: join(dir, 'data'),
      drivers: { brewer: closed, payment: closed, modbus: closed },
    });
    const agent = await spawnAgent(file, { CREMA_AGENT_API__PORT: '0' });
    expect(agent.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const status = (await (await fetch(`${agent.api}/status`)).json()) as {
      deviceId: string;
      drivers: { brewer: boolean };
    };
    expect(status).toMatchObject({ deviceId: 'cli-test', drivers: { brewer: false } });
    const res = await fetch(`${agent.api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipeId: 'espresso', size: 'M' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 503, code: 'BREWER_DISCONNECTED', instance: '/orders' });
    agent.child.kill('SIGTERM');
    expect(await exited(agent.child)).toBe(0);
  }, 30_000);
});
