import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

const repoRoot = join(import.meta.dirname, '..', '..');

/** The agent CLI's `claim` subcommand as its own process (async: the hub answering it runs in this one). */
function claimCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'agent/src/cli.ts'), 'claim', ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

type Issued = { code: string; claimCode: { id: string; status: string } };
type DeviceView = { merchantId: string; locationId: string | null; online: boolean };

/**
 * Claim codes end to end, over real sockets: an admin issues a code through the hub's API, a machine's agent
 * configured with only that code claims its own credential, stores it, and comes online under the code's
 * merchant and location; the code is then spent, expired and revoked codes are refused with one code, the
 * agent keeps selling while refused, and claims are rate-limited.
 */
describe('a machine claims its credential with a one-time code', () => {
  let dir: string;
  let hub: TestHub;
  let merchantId: string;
  let locationId: string;
  const machines: TestMachine[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-claim-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    merchantId = await hub.createMerchant('Porto Coffee');
    locationId = (
      await hub.call<{ id: string }>('POST', '/api/v1/locations', { merchantId, name: 'Ribeira' })
    ).id;
  });

  afterAll(async () => {
    for (const m of machines) await m.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const issue = (extra: Record<string, unknown> = {}) =>
    hub.call<Issued>('POST', '/api/v1/claim-codes', { merchantId, locationId, ...extra });
  const claimOverHttp = (body: Record<string, unknown>) =>
    fetch(new URL('/api/v1/device/claim', hub.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const device = (id: string) =>
    hub
      .call<{ items: (DeviceView & { id: string })[] }>('GET', `/api/v1/devices?q=${id}`)
      .then((page) => page.items.find((d) => d.id === id));
  const claimsOf = async (id: string) =>
    (
      await hub.db
        .selectFrom('audit_log')
        .select('id')
        .where('action', '=', 'device.claim')
        .where('target_id', '=', id)
        .execute()
    ).length;
  function machine(deviceId: string, claimCode: string): TestMachine {
    const m = new TestMachine(deviceId, join(dir, deviceId), hub, '');
    m.claimCode = claimCode;
    machines.push(m);
    return m;
  }

  it('registers the machine under the code’s merchant and location; the code is spent; a restart keeps the credential', async () => {
    const issued = await issue();
    const m = machine('cm-porto-0001', issued.code);
    await m.start();
    await waitFor(() => m.sync?.state === 'mqtt', 20_000, 'machine online with its claimed credential');
    await waitFor(
      async () => (await device('cm-porto-0001'))?.online === true,
      15_000,
      'hub shows it online',
    );
    expect(await device('cm-porto-0001')).toMatchObject({ merchantId, locationId });

    const file = join(dir, 'cm-porto-0001', 'agent', 'hub-credential.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = readFileSync(file, 'utf8');
    const list = await hub.call<{ items: Issued['claimCode'][] }>(
      'GET',
      '/api/v1/claim-codes?status=claimed',
    );
    expect(list.items.map((c) => c.id)).toContain(issued.claimCode.id);

    // Spent: the same code again is refused with the one code that tells nothing more.
    const again = await claimOverHttp({ code: issued.code, deviceId: 'cm-porto-9999', model: 'cm-1' });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([
      403,
      'CLAIM_CODE_INVALID',
    ]);

    // Restart with the same configuration (the code still in it): the stored credential is used, no new claim.
    await m.stopAgent();
    await m.start();
    await waitFor(() => m.sync?.state === 'mqtt', 20_000, 'machine online again after a restart');
    expect(readFileSync(file, 'utf8')).toBe(stored);
    expect(await claimsOf('cm-porto-0001')).toBe(1);
  });

  it('refuses an expired code with a coded error (CLI process) and a revoked one while the machine sells offline', async () => {
    const expired = await issue();
    // The hub runs on the real clock: the code's expiry is moved into the past in its store.
    await hub.db
      .updateTable('claim_codes')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', expired.claimCode.id)
      .execute();
    const cli = await claimCli([
      '--code',
      expired.code,
      '--hub',
      hub.httpUrl,
      '--device-id',
      'cm-porto-0002',
      '--data-dir',
      join(dir, 'cli'),
    ]);
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stderr).toMatch(/^crema agent: CLAIM_CODE_INVALID: /);

    const revoked = await issue();
    await hub.call('POST', `/api/v1/claim-codes/${revoked.claimCode.id}/revoke`);
    const m = machine('cm-porto-0003', revoked.code);
    await m.start();
    const [order] = await m.sell(1);
    expect(m.ledger().orders.find((o) => o.id === order)?.state).toBe('completed');
    expect(m.agent?.hubLink).toBeUndefined();
    expect(await device('cm-porto-0003')).toBeUndefined();
    await m.stopAgent();

    // The CLI with a valid code stores the credential where the agent looks for it.
    const good = await issue({ deviceId: 'cm-porto-0002' });
    const ok = await claimCli([
      '--code',
      good.code,
      '--hub',
      hub.httpUrl,
      '--device-id',
      'cm-porto-0002',
      '--data-dir',
      join(dir, 'cli'),
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      event: 'claimed',
      deviceId: 'cm-porto-0002',
      merchantId,
      locationId,
    });
    expect(ok.stdout).not.toContain(
      JSON.parse(readFileSync(join(dir, 'cli', 'hub-credential.json'), 'utf8')).credential,
    );
  });

  it('answers 429 RATE_LIMITED once an address has tried too often', async () => {
    const statuses: number[] = [];
    let body: { code?: string } = {};
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      const res = await claimOverHttp({
        code: '0000-0000-0000-0000',
        deviceId: `cm-guess-${i}`,
        model: 'cm-1',
      });
      statuses.push(res.status);
      body = (await res.json()) as { code?: string };
    }
    expect(statuses.at(-1)).toBe(429);
    expect(body.code).toBe('RATE_LIMITED');
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([403]));
  });
});
