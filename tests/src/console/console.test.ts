import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { TestHub } from '../support/hub';
import { waitFor } from '../support/ledger';
import { TestMachine } from '../support/machine';
import { expectAccessible, launchChromium, screenshot } from './browser';

/**
 * The admin console in Debian's chromium against a real hub (HTTP, SQLite, embedded broker) and a real
 * simulated machine (firmware-sim + agent): what an operator does from the screen, checked through the API.
 */
describe('admin console in a browser', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let merchantId: string;
  let workOrderId: string;
  const deviceId = 'cm-lisbon-0001';
  const shelfId = 'cm-lisbon-0002';
  const viewer = { email: 'viewer@crema.test', password: randomBytes(18).toString('base64url') };
  // Work orders go to a user of the merchant who may handle them (the superadmin is none).
  const engineer = { email: 'engineer@crema.test', password: randomBytes(18).toString('base64url') };

  const url = (hash: string) => `${hub.httpUrl}/console/#${hash}`;
  const failShot = (name: string) => onTestFailed(() => screenshot(page, name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-console-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    merchantId = await hub.createMerchant('Lisbon Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchantId));
    await hub.registerDevice(shelfId, merchantId);
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
    await machine.sell(1);
    await waitFor(
      async () => (await hub.call<{ total: number }>('GET', `/api/v1/orders?deviceId=${deviceId}`)).total > 0,
      15_000,
      'order reached the hub',
    );
    // A bin on the second machine left nearly empty by a small restock raises beans_low.
    const bin = {
      deviceId: shelfId,
      material: 'beans',
      capacity: 1000,
      lowThreshold: 200,
      highThreshold: 400,
    };
    await hub.call('POST', '/api/v1/materials/bins', bin);
    await hub.call('POST', `/api/v1/materials/bins/${shelfId}/beans/restock`, { quantity: 50 });
    workOrderId = (
      await hub.call<{ id: string }>('POST', '/api/v1/work-orders', { deviceId, title: 'Descale the boiler' })
    ).id;
    await hub.call('POST', '/api/v1/users', { ...viewer, role: 'viewer', merchantId });
    await hub.call('POST', '/api/v1/users', { ...engineer, role: 'ops_engineer', merchantId });
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in and shows the fleet live on the dashboard', async () => {
    failShot('login-dashboard');
    await page.goto(url('/'));
    await expectAccessible(page, 'login');
    await page.getByLabel('Email').fill(hub.admin.email);
    await page.getByLabel('Password').fill(hub.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const online = page.locator('[data-stat="Machines online"] .stat-value');
    await expect.poll(() => online.textContent(), { timeout: 10_000 }).toBe('1');
    await expect
      .poll(() => page.locator('[data-stat="Orders today"] .stat-value').textContent())
      .not.toBe('0');
    await expectAccessible(page, 'dashboard');
    // The refresh token is an HttpOnly cookie: nothing a script can read.
    expect(
      await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie),
    ).toBe('');
    const cookie = (await context.cookies()).find((c) => c.name === 'crema_refresh');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
  });

  it('lists the machines, and a lock from the detail page succeeds and locks sales', async () => {
    failShot('machines-lock');
    await page.goto(url('/machines'));
    await page.getByRole('link', { name: deviceId }).waitFor();
    await expectAccessible(page, 'machines');
    await page.getByRole('link', { name: deviceId }).click();
    await page.getByRole('heading', { name: `Machine ${deviceId}` }).waitFor();
    await expect.poll(() => page.getByTestId('sales').textContent(), { timeout: 10_000 }).toBe('open');
    await expectAccessible(page, 'machine detail');
    await page.getByRole('button', { name: 'Lock sales', exact: true }).click();
    const row = page.locator('tr', { hasText: 'lock' }).first();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain('succeeded');
    await expect.poll(() => page.getByTestId('sales').textContent(), { timeout: 20_000 }).toBe('locked');
    const commands = await hub.call<{ items: { kind: string; status: string }[] }>(
      'GET',
      `/api/v1/commands?deviceId=${deviceId}`,
    );
    expect(commands.items.find((c) => c.kind === 'lock')?.status).toBe('succeeded');
    // New prices go out as a command too, and the machine takes them.
    await page.getByRole('button', { name: 'Set prices…' }).click();
    await page.getByLabel('Prices, one per line').fill('espresso M 2.80');
    await page.getByRole('button', { name: 'Send' }).click();
    const prices = page.locator('tr', { hasText: 'set_prices' }).first();
    await expect.poll(() => prices.textContent(), { timeout: 20_000 }).toContain('succeeded');
  });

  it('refunds an order with a reason', async () => {
    failShot('refund');
    await page.goto(url('/orders'));
    await page.locator('td[data-label="Order"] a').first().waitFor();
    await expectAccessible(page, 'orders');
    await page.locator('td[data-label="Order"] a').first().click();
    await page.getByRole('heading', { name: 'Payment events' }).waitFor();
    await expectAccessible(page, 'order detail');
    await page.getByLabel('Reason').fill('cold coffee');
    await page.getByRole('button', { name: 'Refund' }).click();
    await expect
      .poll(() => page.getByTestId('refunds').textContent(), { timeout: 10_000 })
      .toContain('cold coffee');
    const orders = await hub.call<{ items: { refundedAmount: number }[] }>(
      'GET',
      `/api/v1/orders?deviceId=${deviceId}`,
    );
    expect(orders.items[0]?.refundedAmount).toBeGreaterThan(0);
  });

  it('restocks a low bin and its alarm clears', async () => {
    failShot('restock');
    await page.goto(url('/alarms'));
    await page.getByTestId(`alarm-${shelfId}-beans_low`).waitFor();
    await expectAccessible(page, 'alarms');
    await page.goto(url('/materials?low=true'));
    await page.getByRole('button', { name: `Refill ${shelfId} beans` }).click();
    await expect.poll(() => page.getByTestId(`level-${shelfId}-beans`).count(), { timeout: 10_000 }).toBe(0);
    await expectAccessible(page, 'materials');
    // A catalog import with a bad row names the row and imports nothing.
    await page.getByLabel('For merchant id').fill(merchantId);
    await page
      .getByLabel('or paste CSV')
      .fill('sku,name,material,unit,pack_size\nB-1,Beans,beans,g,1000\nX-1,,tea,g,1\n');
    await page.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => page.getByTestId('import-errors').textContent()).toContain('line 3');
    expect(await page.getByRole('cell', { name: 'B-1' }).count()).toBe(0);
    const open = await hub.call<{ items: { code: string }[] }>(
      'GET',
      `/api/v1/alarms?deviceId=${shelfId}&status=open`,
    );
    expect(open.items.map((a) => a.code)).not.toContain('beans_low');
    await page.goto(url('/alarms'));
    await page.getByRole('heading', { name: 'Open alarms' }).waitFor();
    await expect.poll(() => page.getByTestId(`alarm-${shelfId}-beans_low`).count()).toBe(0);
  });

  it('moves a work order through its states on the board', async () => {
    failShot('work-order');
    await page.goto(url('/alarms'));
    const card = page.getByTestId(`wo-${workOrderId}`);
    await page.getByLabel('Assign to').fill(engineer.email);
    for (const [to, column] of [
      ['→ assigned', 'assigned'],
      ['→ in progress', 'in_progress'],
      ['→ resolved', 'resolved'],
      ['→ closed', 'closed'],
    ] as const) {
      await card.getByRole('button', { name: to }).click();
      await page
        .locator(`[data-column="${column}"] [data-testid="wo-${workOrderId}"]`)
        .waitFor({ timeout: 10_000 });
    }
    const wo = await hub.call<{ status: string; assignee: string | null }>(
      'GET',
      `/api/v1/work-orders/${workOrderId}`,
    );
    expect(wo).toMatchObject({ status: 'closed', assignee: engineer.email });
  });

  it('shows the administration pages to the superadmin, each accessible', async () => {
    failShot('admin-pages');
    for (const [path, heading] of [
      ['/users', 'Users'],
      ['/merchants', 'Merchants'],
      ['/locations', 'Locations'],
      ['/audit', 'Audit log'],
      ['/recipes', 'Recipes and prices'],
      ['/firmware', 'Firmware and agent updates'],
      ['/account', 'Account'],
    ] as const) {
      await page.goto(url(path));
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      if (path !== '/account') await page.locator('td').first().waitFor();
      await expectAccessible(page, heading);
    }
  });

  it('a viewer sees no actions, and a request crafted with its session is refused by the API', async () => {
    const viewerContext = await browser.newContext({
      colorScheme: 'dark',
      viewport: { width: 390, height: 800 },
    });
    page = await viewerContext.newPage();
    page.setDefaultTimeout(10_000);
    failShot('viewer');
    // Keyboard only: type, Tab, type, Enter.
    await page.goto(url('/'));
    await page.getByLabel('Email').focus();
    await page.keyboard.type(viewer.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(viewer.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await expectAccessible(page, 'dashboard (viewer, phone, dark)');
    await page.getByRole('button', { name: 'Menu' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Machines', exact: true }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.goto(url(`/machines/${deviceId}`));
    await page.getByTestId('sales').waitFor();
    await expectAccessible(page, 'machine detail (viewer)');
    for (const name of ['Lock sales', 'Unlock sales', 'Rinse', 'Restart agent', 'Diagnostics', 'Revoke'])
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    await page.goto(url('/materials'));
    await page.locator('td').first().waitFor();
    expect(await page.getByRole('button', { name: /Refill|Empty/ }).count()).toBe(0);
    // The session cookie gives the viewer a token; the API refuses what the role may not do.
    const status = await page.evaluate(async (id) => {
      const r = await fetch('/api/v1/auth/session/refresh', {
        method: 'POST',
        headers: { 'x-crema-csrf': '1' },
      });
      const { accessToken } = (await r.json()) as { accessToken: string };
      const res = await fetch('/api/v1/commands', {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'unlock', params: {}, target: { deviceIds: [id] } }),
      });
      return res.status;
    }, deviceId);
    expect(status).toBe(403);
    // Without the CSRF header the cookie alone gets nothing.
    const bare = await page.evaluate(
      async () => (await fetch('/api/v1/auth/session/refresh', { method: 'POST' })).status,
    );
    expect(bare).toBe(403);
    await viewerContext.close();
  });
});
