import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { exited, repoRoot } from './support';

// `pnpm machine` lives in agent/dev (a development tool, not shipped); this keeps it working.
const MACHINE = join(repoRoot, 'agent/dev/machine.ts');

describe('pnpm machine', () => {
  it('refuses an unknown flag with a coded message and the usage', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MACHINE, '--', '--bogus'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toContain("'--bogus'");
    expect(r.stderr).toContain('usage: pnpm machine');
  }, 30_000);

  it('starts a simulated machine with its agent, serves the menu and the control API, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MACHINE, '--', '--tcp', '--speed', '5'], {
      cwd: repoRoot,
      env: { ...process.env, CREMA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`machine exited (${code}) before ready`)));
        createInterface({ input: child.stdout! }).once('line', resolve);
      });
      const ready = JSON.parse(line) as { event: string; api: string; control: string };
      expect(ready.event).toBe('ready');
      const menu = (await (await fetch(`${ready.api}/menu`)).json()) as { items: { id: string }[] };
      expect(menu.items.length).toBeGreaterThan(0);
      expect((await fetch(`${ready.control}/state`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
