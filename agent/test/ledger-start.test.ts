import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/app';
import { parseConfig } from '../src/config/load';
import { silentLogger } from '../src/log/logger';
import { defaultRecipeSet } from '../src/orders/default-recipe-set';
import { Store } from '../src/store/store';
import { systemClock } from '../src/time/clock';
import { exited, repoRoot, writeConfig } from './support';

const dir = mkdtempSync(join(tmpdir(), 'crema-ledger-start-'));
const closed = { transport: 'tcp' as const, host: '127.0.0.1', port: 1 };
const input = {
  deviceId: 'ledger-start',
  dataDir: join(dir, 'data'),
  drivers: { brewer: closed, payment: closed, modbus: closed },
  api: { port: 0 },
};
const cliArgs = (...args: string[]) => ['--import', 'tsx', join(repoRoot, 'agent/src/cli.ts'), ...args];

describe('agent start over a damaged or missing ledger', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to sell on a damaged ledger, and to start a new one over a known machine unless reset', async () => {
    const first = Store.open({
      dataDir: input.dataDir,
      deviceId: input.deviceId,
      outboxMaxBytes: 1 << 20,
      clock: systemClock,
      defaults: defaultRecipeSet('EUR'),
    });
    const epoch = first.identity.ledgerId;
    first.close();

    const db = join(input.dataDir, 'agent.db');
    writeFileSync(db, 'SQLite format 3\0 but nothing after the header is right'.repeat(200));
    const damaged = new Agent({ config: parseConfig(input), logger: silentLogger });
    await expect(damaged.start()).rejects.toMatchObject({ code: 'LEDGER_DAMAGED' });
    expect(damaged.url).toBeUndefined();

    unlinkSync(db);
    const config = writeConfig(dir, input);
    const refused = spawnSync(process.execPath, cliArgs('--config', config), {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(refused.status).toBe(4);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^crema agent: LEDGER_MISSING: .*--reset-ledger/);

    const child = spawn(process.execPath, cliArgs('--config', config, '--reset-ledger'), {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout }).once('line', resolve),
    );
    const { api } = JSON.parse(line) as { api: string };
    expect((await fetch(`${api}/menu`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    const after = Store.open({
      dataDir: input.dataDir,
      deviceId: input.deviceId,
      outboxMaxBytes: 1 << 20,
      clock: systemClock,
      defaults: defaultRecipeSet('EUR'),
    });
    expect(after.identity.ledgerId).not.toBe(epoch);
    after.close();
  }, 60_000);
});
