import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '..', '..');
const MACHINES = 2;

/**
 * How `npm` ended, and all the fleet printed. 'close', not 'exit': npm's exit can be seen before the last lines
 * its descendants wrote to the shared pipe are read (a CI run lost the "stopped" line so); 'close' comes once
 * every process holding the pipe has ended and all of it is read.
 */
const ended = (child: ChildProcess, stdout: () => string) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; printed: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, printed: stdout() })),
  );

/**
 * The fleet as a newcomer runs it: npm → sh → pnpm → sh → tsx → node, in its own process group, stopped by one
 * Ctrl-C, which the terminal delivers as SIGINT to every process of the group (and npm, pnpm and tsx relay it).
 */
describe('npm run fleet and one Ctrl-C', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'crema-fleet-'));
  let child: ChildProcess | undefined;

  afterAll(() => {
    // Whatever of the group is left after a failure.
    try {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {}
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes the drinks in progress, stops gracefully and prints readable lines only', async () => {
    const args = `--machines ${MACHINES} --port 0 --mqtt-port 0 --speed 20 --order-every 0.25 --data-dir ${dataDir}`;
    child = spawn('npm', ['exec', '-c', `pnpm run fleet:start -- ${args}`], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CREMA_ADMIN_PASSWORD: randomBytes(12).toString('base64url') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const sold = () => stdout.match(/customer bought/g)?.length ?? 0;
    await waitFor(
      // The banner's last line: each line is its own write, and a loaded machine delivers them apart.
      () => stdout.includes('Ctrl-C stops everything.') || child?.exitCode !== null,
      90_000,
      'the fleet',
    );
    expect(stdout, stderr).toContain('Crema fleet is running.');

    // The banner's OpenAPI address serves the document.
    const openapi = stdout.match(/OpenAPI\s+(\S+)/)?.[1];
    expect(openapi, stdout).toMatch(/^http:\/\/.+\/api\/openapi\.json$/);
    const doc = (await (await fetch(openapi ?? '')).json()) as { openapi?: string };
    expect(doc.openapi).toMatch(/^3\./);

    // The banner's console address serves the console's page.
    const consoleUrl = stdout.match(/console\s+(\S+)/)?.[1];
    expect(consoleUrl, stdout).toMatch(/^http:\/\/.+\/console\/$/);
    const page = await fetch(consoleUrl ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/console/assets/app.js');

    // Customers keep buying, so drinks are being made when Ctrl-C comes.
    await waitFor(() => sold() >= 3, 60_000, 'three drinks sold');
    const end = ended(child, () => stdout);
    process.kill(-(child.pid ?? 0), 'SIGINT');
    const result = await Promise.race([end, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    const output = `${stdout}\n${stderr}`;

    // npm waits for the fleet to finish stopping, then ends as an interrupted command does (or with 0).
    expect(result, output).not.toBe('hung');
    if (result === 'hung') return;
    expect(result.code === 0 || result.signal === 'SIGINT', `${result.code} ${result.signal}`).toBe(true);
    expect(result.printed).toMatch(/stopped: \d+ drinks sold/);
    expect(stdout).toContain('stopping the fleet');
    expect(stdout).not.toContain('stopping at once');
    expect(output.split('\n').filter((l) => /^\s*\{.*"level"/.test(l))).toEqual([]);

    // Every order taken reached its end: the drinks in progress were finished (or refunded), none left open.
    let orders = 0;
    for (let i = 1; i <= MACHINES; i++) {
      const file = join(dataDir, `demo-machine-${i}`, 'agent.db');
      expect(existsSync(file), file).toBe(true);
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT id, state FROM orders').all() as { id: string; state: string }[];
      db.close();
      orders += rows.length;
      for (const o of rows) expect(['completed', 'failed'], `${o.id} ${o.state}`).toContain(o.state);
    }
    expect(orders).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
