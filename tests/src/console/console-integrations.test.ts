import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { TestHub } from '../support/hub';
import { waitFor } from '../support/ledger';
import { TestMachine } from '../support/machine';
import { expectAccessible, launchChromium, screenshot } from './browser';

/**
 * The console's integration and compliance pages in Debian's chromium, as a merchant admin: API keys (used from
 * here with fetch), claim codes (claimed here as a machine would), cleaning compliance reported by a real
 * simulated machine, and the DEX audit counters. Every outcome is checked through the API.
 */
describe('admin console: API keys, claim codes, cleaning, audit counters', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  let browser: Browser;
  let page: Page;
  let merchantId: string;
  const deviceId = 'cm-porto-0001';
  const boss = { email: 'boss@crema.test', password: randomBytes(18).toString('base64url') };
  const cashier = { email: 'finance@crema.test', password: randomBytes(18).toString('base64url') };

  const url = (hash: string) => `${hub.httpUrl}/console/#${hash}`;
  const failShot = (name: string) => onTestFailed(() => screenshot(page, name));
  const login = async (who: { email: string; password: string }) => {
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(url('/'));
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  };
  /** Clicks what starts a download and returns the file's text. */
  const downloaded = async (click: () => Promise<void>) => {
    const [file] = await Promise.all([page.waitForEvent('download'), click()]);
    return readFileSync(await file.path(), 'utf8');
  };
  /** A request as an integration makes it, with an API key. */
  const withKey = async (key: string, path: string) =>
    (await fetch(new URL(path, hub.httpUrl), { headers: { 'x-api-key': key } })).status;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-console2-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    merchantId = await hub.createMerchant('Porto Coffee');
    await hub.call('POST', '/api/v1/locations', { merchantId, name: 'Lobby' });
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchantId));
    // Descale due after one drink with no grace, so two sales make it overdue; a descale takes ~6 s here.
    machine.timeScale = 150;
    machine.maintenance = {
      rinse: { everyDrinks: 1000, autoRun: false },
      descale: { everyDrinks: 1, graceDrinks: 0 },
      checkIntervalS: 1,
    };
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.sell(2);
    await waitFor(
      async () => (await hub.call<{ total: number }>('GET', `/api/v1/orders?deviceId=${deviceId}`)).total > 1,
      15_000,
      'orders reached the hub',
    );
    await hub.call('POST', '/api/v1/users', { ...boss, role: 'merchant_admin', merchantId });
    await hub.call('POST', '/api/v1/users', { ...cashier, role: 'finance', merchantId });
    browser = await launchChromium();
    await login(boss);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an API key shown once, which works; rotating stops the old one, revoking the new', async () => {
    failShot('api-keys');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', exact: true }).waitFor();
    await expectAccessible(page, 'API keys');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const form = page.getByRole('form', { name: 'Create an API key' });
    // Only what a key may hold: a merchant admin manages users, but no key ever does.
    await form.getByLabel(/order:read/).waitFor();
    expect(await form.getByLabel(/user:read/).count()).toBe(0);
    expect(await form.getByLabel(/api_key:write/).count()).toBe(0);
    await form.getByLabel('Name').fill('ERP export');
    await form.getByLabel(/order:read/).check();
    await form.getByLabel(/finance:read/).check();
    await form.getByLabel(/^Allowed addresses/).fill('127.0.0.0/8, ::1');
    const nextYear = `${new Date().getFullYear() + 1}-06-30`;
    await form.getByLabel(/^Expires/).fill(nextYear);
    await expectAccessible(page, 'create API key form');
    await form.getByRole('button', { name: 'Create', exact: true }).click();
    const created = page.getByRole('dialog', { name: 'API key ERP export' });
    await created.waitFor();
    await expectAccessible(page, 'API key dialog');
    const key = (await created.getByTestId('credential').textContent()) ?? '';
    expect(key).toMatch(/^crema_ak_/);
    await created.getByRole('button', { name: 'Done' }).click();
    // Closed, the dialog leaves the accessibility tree before the DOM: the test id finds hidden nodes too.
    await page.getByTestId('credential').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(key);

    const row = page.locator('tr', { hasText: 'ERP export' });
    await expect.poll(() => row.textContent()).toContain('active');
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(key.split('_').slice(0, 3).join('_'));
    for (const shown of ['order:read', 'finance:read', '127.0.0.0/8', '::1']) expect(text).toContain(shown);
    expect(text).not.toContain('device:read');
    expect(await withKey(key, '/api/v1/orders')).toBe(200);
    expect(await withKey(key, '/api/v1/users')).toBe(403);
    await page.reload();
    await expect.poll(() => row.textContent()).toMatch(/ago from /);

    await page.getByRole('button', { name: 'Rotate ERP export' }).click();
    const ask = page.getByRole('alertdialog');
    await expectAccessible(page, 'rotate confirmation');
    await ask.getByRole('button', { name: 'Rotate' }).click();
    const rotated = page.getByRole('dialog', { name: 'New key for ERP export' });
    const next = (await rotated.getByTestId('credential').textContent()) ?? '';
    expect(next).not.toBe(key);
    await rotated.getByRole('button', { name: 'Done' }).click();
    expect(await withKey(key, '/api/v1/orders')).toBe(401);
    expect(await withKey(next, '/api/v1/orders')).toBe(200);

    await page.getByRole('button', { name: 'Revoke ERP export' }).click();
    await ask.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => row.textContent()).toContain('revoked');
    expect(await withKey(next, '/api/v1/orders')).toBe(401);
    expect(await page.getByRole('button', { name: 'Rotate ERP export' }).count()).toBe(0);
  });

  it('issues a claim code shown once; a machine claims it and the list shows it claimed; another is revoked', async () => {
    failShot('claim-codes');
    await page.goto(url('/machines'));
    await page.getByRole('link', { name: 'Claim codes', exact: true }).first().click();
    await page.getByRole('heading', { name: 'Claim codes', exact: true }).waitFor();
    await expectAccessible(page, 'claim codes');
    const issue = async (note: string) => {
      await page.getByRole('button', { name: 'Issue claim code' }).click();
      const form = page.getByRole('form', { name: 'Issue a claim code' });
      await form.getByLabel('Location').selectOption({ label: 'Lobby' });
      await form.getByLabel('Note').fill(note);
      await expectAccessible(page, 'issue claim code form');
      await form.getByRole('button', { name: 'Issue', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Claim code' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toMatch(/before .*shown this once/);
      const code = (await dialog.getByTestId('credential').textContent()) ?? '';
      await expectAccessible(page, 'claim code dialog');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      return code;
    };
    const code = await issue('front desk');
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    const row = page.locator('tr', { hasText: 'front desk' });
    await expect.poll(() => row.textContent()).toContain('pending');

    const claim = (c: string, id: string) =>
      fetch(new URL('/api/v1/device/claim', hub.httpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: c, deviceId: id, model: 'cm-1' }),
      });
    expect((await claim(code, 'cm-porto-0009')).status).toBe(201);
    await page.getByLabel('Status').selectOption('claimed');
    await expect.poll(() => page.url()).toContain('status=claimed');
    await expect.poll(() => row.textContent()).toContain('claimed');
    await row.getByRole('link', { name: 'cm-porto-0009' }).waitFor();
    expect(await hub.call('GET', '/api/v1/devices/cm-porto-0009')).toMatchObject({ merchantId });

    await page.getByLabel('Status').selectOption('');
    const spare = await issue('spare');
    const spareRow = page.locator('tr', { hasText: 'spare' });
    await spareRow.getByRole('button', { name: /^Revoke/ }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => spareRow.textContent()).toContain('revoked');
    expect((await claim(spare, 'cm-porto-0010')).status).toBe(403);
  });

  it('shows an overdue descale on the dashboard, the Cleaning page and the machine; a descale from the page clears it', async () => {
    failShot('cleaning');
    type Device = { maintenance: { overdue: boolean; descale: { status: string } } | null };
    await waitFor(
      async () =>
        (await hub.call<Device>('GET', `/api/v1/devices/${deviceId}`)).maintenance?.overdue === true,
      20_000,
      'the machine reported its descale overdue',
    );
    await page.goto(url('/'));
    const stat = page.locator('[data-stat="Cleaning overdue"]');
    await expect.poll(() => stat.locator('.stat-value').textContent()).toBe('1');
    await stat.getByRole('link').click();
    await expect.poll(() => page.url()).toContain('overdue=true');
    await page.getByRole('link', { name: deviceId }).waitFor();
    expect(await page.getByRole('combobox', { name: /^Compliance/ }).inputValue()).toBe('true');
    await expectAccessible(page, 'cleaning overdue');

    await page.getByRole('link', { name: deviceId }).click();
    const descale = page.getByTestId('cleaning-descale');
    await expect.poll(() => descale.textContent()).toContain('overdue');
    await expectAccessible(page, 'machine detail with cleaning and counters');
    await page.getByRole('button', { name: 'Descale', exact: true }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Descale' }).click();
    const command = page.locator('tr', { hasText: 'descale' }).first();
    await expect.poll(() => command.textContent(), { timeout: 30_000 }).toContain('succeeded');
    await expect.poll(() => descale.textContent(), { timeout: 15_000 }).toMatch(/^ok /);
    const after = await hub.call<Device>('GET', `/api/v1/devices/${deviceId}`);
    expect(after.maintenance?.descale.status).toBe('ok');
    await page.goto(url('/maintenance?overdue=true'));
    await page.getByText('No machine is overdue.').waitFor();
  });

  it('previews and downloads the DEX file, records a read and resets the counters; the counters page exports CSV', async () => {
    failShot('dex');
    type Counters = {
      items: {
        lastReadAt: number | null;
        lastResetAt: number | null;
        sinceReset: { paid: { count: number } };
      }[];
    };
    const counters = async () =>
      (await hub.call<Counters>('GET', `/api/v1/finance/counters?deviceId=${deviceId}`)).items[0];
    await page.goto(url(`/machines/${deviceId}`));
    await page.getByRole('button', { name: 'Preview DEX' }).click();
    await expect.poll(() => page.getByTestId('dex-preview').textContent()).toMatch(/^DXS\*/);
    const file = await downloaded(() => page.getByRole('button', { name: 'Download DEX' }).click());
    expect(file.startsWith('DXS*')).toBe(true);
    expect(file).toContain(`ID1*${deviceId}`);
    // A preview or a download records nothing.
    expect((await counters())?.lastReadAt).toBeNull();
    const read = await downloaded(() => page.getByRole('button', { name: 'Read (record) DEX' }).click());
    expect(read.startsWith('DXS*')).toBe(true);
    await expect.poll(async () => (await counters())?.lastReadAt).not.toBeNull();
    expect((await counters())?.sinceReset.paid.count).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Reset counters' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Reset counters' }).click();
    await expect.poll(async () => (await counters())?.lastResetAt).not.toBeNull();
    expect((await counters())?.sinceReset.paid.count).toBe(0);
    await page.getByRole('status').filter({ hasText: 'Counters reset.' }).waitFor();

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Audit counters' })
      .click();
    const row = page.locator('tr', { hasText: deviceId });
    await expect.poll(() => row.textContent()).toContain('2 paid');
    await expectAccessible(page, 'audit counters');
    const csv = await downloaded(() => page.getByRole('button', { name: 'Export CSV' }).click());
    expect(csv).toContain(deviceId);
    expect(csv.trim().split('\n').length).toBeGreaterThan(1);
  });

  it('shows finance the counters and DEX but no reset, commands, API keys or claim codes', async () => {
    await login(cashier);
    failShot('finance');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Audit counters' }).waitFor();
    for (const name of ['API keys', 'Claim codes'])
      expect(await nav.getByRole('link', { name }).count(), name).toBe(0);
    await page.goto(url(`/machines/${deviceId}`));
    await page.getByRole('button', { name: 'Download DEX' }).waitFor();
    await expectAccessible(page, 'machine detail (finance)');
    for (const name of ['Reset counters', 'Descale', 'Rinse'])
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
  });
});
