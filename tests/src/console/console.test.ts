import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyDeviceCredential } from '@crema/hub';
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
  /** A user the superadmin edits (role, name, password reset) and then deletes from the Users page. */
  const ops = { email: 'ops@crema.test', password: randomBytes(18).toString('base64url') };
  let opsId: string;
  const boss = { email: 'boss@crema.test', password: randomBytes(18).toString('base64url') };
  let adminId: string;

  const url = (hash: string) => `${hub.httpUrl}/console/#${hash}`;
  const failShot = (name: string) => onTestFailed(() => screenshot(page, name));
  /** The text of the element that has the focus (runs in the page: its window is `globalThis`). */
  const focused = () =>
    page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } })
          .document.activeElement?.textContent ?? '',
    );

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
    opsId = (
      await hub.call<{ id: string }>('POST', '/api/v1/users', { ...ops, role: 'ops_engineer', merchantId })
    ).id;
    adminId = (await hub.call<{ id: string }>('GET', '/api/v1/auth/me')).id;
    await hub.call('POST', '/api/v1/users', { ...boss, role: 'merchant_admin', merchantId });
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

  it('filters the machines by open alarm, and the filter stays in the address', async () => {
    failShot('machines-alarm-filter');
    await waitFor(
      async () =>
        (await hub.call<{ total: number }>('GET', `/api/v1/alarms?deviceId=${shelfId}&status=open`)).total >
        0,
      10_000,
      'the low bin raised its alarm',
    );
    const fromApi = async (alarm: boolean) =>
      (await hub.call<{ items: { id: string }[] }>('GET', `/api/v1/devices?alarm=${alarm}&limit=100`)).items
        .map((d) => d.id)
        .sort();
    const shown = async () =>
      (await page.locator('td[data-label="Machine"] a').allTextContents()).map((t) => t.trim()).sort();
    await page.goto(url('/machines'));
    await page.getByRole('link', { name: deviceId }).waitFor();
    const alarms = page.getByLabel(/^Alarms/);
    await alarms.selectOption('true');
    await expect.poll(() => page.url()).toContain('alarm=true');
    const withAlarm = await fromApi(true);
    expect(withAlarm).toContain(shelfId);
    await expect.poll(shown).toEqual(withAlarm);
    await expectAccessible(page, 'machines with open alarms');
    await alarms.selectOption('false');
    await expect.poll(() => page.url()).toContain('alarm=false');
    const without = await fromApi(false);
    expect(without).not.toContain(shelfId);
    await expect.poll(shown).toEqual(without);
    // A reload (or a shared link) keeps the filter.
    await page.reload();
    await page.locator('td[data-label="Machine"] a').first().waitFor();
    expect(await page.getByLabel(/^Alarms/).inputValue()).toBe('false');
    await expect.poll(shown).toEqual(without);
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
    // A picker of the merchant's assignees (users who may handle work orders), not free text.
    const picker = page.getByLabel('Assign to');
    // The superadmin's board spans merchants: each person is named with theirs.
    const offered = `${engineer.email} · Lisbon Coffee`;
    await expect.poll(() => picker.locator('option').allTextContents()).toContain(offered);
    expect((await picker.locator('option').allTextContents()).join('\n')).not.toContain(viewer.email);
    await picker.selectOption({ label: offered });
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

  it('binds a bin to a catalog material and sends the binding to the machine', async () => {
    failShot('bin-binding');
    await hub.call('POST', '/api/v1/materials/catalog', {
      merchantId,
      sku: 'DECAF-1',
      name: 'Decaf beans 1 kg',
      material: 'decaf_beans',
      unit: 'g',
      packSize: 1000,
    });
    type Bins = { items: { bin: number; material: string; level: number }[] };
    const bins = await hub.call<Bins>('GET', `/api/v1/materials/bins?deviceId=${shelfId}`);
    const beans = bins.items.find((b) => b.material === 'beans');
    if (!beans) throw new Error('the shelf machine has no beans bin');
    await page.goto(url(`/materials?deviceId=${shelfId}`));
    const choice = page.getByLabel(`Material for ${shelfId} bin ${beans.bin}`);
    await expect.poll(() => choice.locator('option').allTextContents()).toContain('decaf_beans');
    await choice.selectOption('decaf_beans');
    await page.getByRole('button', { name: `Bind ${shelfId} bin ${beans.bin}` }).click();
    const ask = page.getByRole('alertdialog');
    await expectAccessible(page, 'bin binding question');
    await ask.getByRole('button', { name: 'Bind', exact: true }).click();
    await expect
      .poll(async () => (await hub.call<Bins>('GET', `/api/v1/materials/bins?deviceId=${shelfId}`)).items)
      .toContainEqual(expect.objectContaining({ bin: beans.bin, material: 'decaf_beans', level: 0 }));
    await page.getByRole('button', { name: `Send the bins to ${shelfId}` }).click();
    await page
      .getByRole('alertdialog')
      .getByRole('button', { name: `Send the bins to ${shelfId}` })
      .click();
    type Commands = {
      items: {
        kind: string;
        params: { config?: { settings?: { bins?: { bin: number; material: string }[] } } };
      }[];
    };
    await expect
      .poll(async () => {
        const sent = await hub.call<Commands>('GET', `/api/v1/commands?deviceId=${shelfId}`);
        return sent.items.find((c) => c.kind === 'set_config')?.params.config?.settings?.bins ?? [];
      })
      .toContainEqual(expect.objectContaining({ bin: beans.bin, material: 'decaf_beans' }));
    await expectAccessible(page, 'materials of one machine');
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
      ['/api-keys', 'API keys'],
      ['/claim-codes', 'Claim codes'],
      ['/maintenance', 'Cleaning and descaling'],
      ['/counters', 'Audit counters'],
      ['/account', 'Account'],
    ] as const) {
      await page.goto(url(path));
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      if (path !== '/account') await page.locator('td').first().waitFor();
      await expectAccessible(page, heading);
    }
  });

  it('registers a machine and rotates a credential, each shown once in an in-page dialog', async () => {
    failShot('credential-dialogs');
    const db = hub.hub?.api?.db;
    if (!db) throw new Error('hub not running');
    const newId = 'cm-lisbon-0003';
    await page.goto(url('/machines'));
    await page.getByRole('button', { name: 'Register machine' }).click();
    await page.getByLabel('Id (optional)').fill(newId);
    await page.getByLabel('Model', { exact: true }).fill('cm-1');
    await page
      .getByRole('form', { name: 'Register a machine' })
      .getByLabel(/^Merchant/)
      .selectOption({ label: 'Lisbon Coffee' });
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    const registered = page.getByRole('dialog', { name: `Credential of ${newId}` });
    await registered.waitFor();
    const secret = (await registered.getByTestId('credential').textContent()) ?? '';
    expect(await verifyDeviceCredential(db, newId, secret)).toEqual({ merchantId });
    expect(await focused()).toBe('Copy');
    await expectAccessible(page, 'credential dialog');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.httpUrl });
    await registered.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => registered.getByRole('status').textContent()).toBe('Copied to the clipboard.');
    const clipboard = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    expect(clipboard).toBe(secret);
    await registered.getByRole('button', { name: 'Done' }).click();
    // A closed <dialog> leaves the accessibility tree (where role locators look) before it leaves the DOM:
    // wait on the test id, which finds hidden nodes too.
    await page.getByTestId('credential').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    await page.getByRole('link', { name: newId }).waitFor();

    await page.goto(url(`/machines/${newId}`));
    await page.getByRole('button', { name: 'Rotate credential' }).click();
    const ask = page.getByRole('alertdialog');
    await ask.waitFor();
    expect(await focused()).toBe('Cancel');
    await expectAccessible(page, 'confirmation dialog');
    await ask.getByRole('button', { name: 'Rotate credential' }).click();
    const rotated = page.getByRole('dialog', { name: `New credential of ${newId}` });
    await rotated.waitFor();
    const next = (await rotated.getByTestId('credential').textContent()) ?? '';
    expect(next).not.toBe(secret);
    expect(await verifyDeviceCredential(db, newId, next)).toEqual({ merchantId });
    expect(await verifyDeviceCredential(db, newId, secret)).toBeUndefined();
    // Escape closes it; the secret leaves the page and focus returns to the button that asked for it.
    await page.keyboard.press('Escape');
    await page.getByTestId('credential').waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(next);
    expect(await focused()).toBe('Rotate credential');
    expect(await page.getByTestId('credential').count()).toBe(0);
  });

  it('edits a user (name, role, password reset that ends their sessions) and deletes one after confirming', async () => {
    failShot('users-edit-delete');
    const opsSession = await hub.call<{ accessToken: string }>('POST', '/api/v1/auth/login', ops, false);
    const meStatus = async (token: string) =>
      (
        await fetch(new URL('/api/v1/auth/me', hub.httpUrl), {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status;
    expect(await meStatus(opsSession.accessToken)).toBe(200);
    const newPassword = randomBytes(18).toString('base64url');
    await page.goto(url('/users'));
    await page.getByRole('button', { name: `Edit ${ops.email}` }).click();
    const edit = page.getByRole('dialog', { name: `Edit ${ops.email}` });
    await edit.waitFor();
    await expectAccessible(page, 'edit user dialog');
    expect(await edit.getByLabel('Role').inputValue()).toBe('ops_engineer');
    await edit.getByLabel('Name').fill('Olga Ops');
    await edit.getByLabel('Role').selectOption('finance');
    await edit.getByLabel(/^New password/).fill(newPassword);
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('tr', { hasText: ops.email }).textContent()).toContain('finance');
    expect(await hub.call('GET', `/api/v1/users/${opsId}`)).toMatchObject({
      role: 'finance',
      name: 'Olga Ops',
    });
    // The reset ended the session they had; the new password lets them in, the old one does not.
    expect(await meStatus(opsSession.accessToken)).toBe(401);
    await expect(hub.call('POST', '/api/v1/auth/login', ops, false)).rejects.toThrow(/→ 401/);
    await hub.call('POST', '/api/v1/auth/login', { email: ops.email, password: newPassword }, false);
    // Nobody deletes themselves: the superadmin's own row has no Delete.
    await page.getByRole('button', { name: `Edit ${hub.admin.email}` }).waitFor();
    expect(await page.getByRole('button', { name: `Delete ${hub.admin.email}` }).count()).toBe(0);
    // Delete asks first: Cancel keeps the user.
    const del = page.getByRole('button', { name: `Delete ${ops.email}` });
    await del.click();
    const ask = page.getByRole('alertdialog');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    expect(await hub.call('GET', `/api/v1/users/${opsId}`)).toMatchObject({ email: ops.email });
    await del.click();
    await ask.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('tr', { hasText: ops.email }).count()).toBe(0);
    await expect(hub.call('GET', `/api/v1/users/${opsId}`)).rejects.toThrow(/→ 404/);
    await expectAccessible(page, 'users after delete');
  });

  it('filters the audit log by actor, action, target and days, and exports the same entries', async () => {
    failShot('audit-filters');
    const pad = (n: number) => String(n).padStart(2, '0');
    const now = new Date();
    const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
    const start = new Date(`${today}T00:00:00`).getTime();
    const query = new URLSearchParams({
      actorUserId: adminId,
      actionPrefix: 'user.',
      targetType: 'user',
      targetId: opsId,
      from: String(start),
      to: String(start + 86_400_000),
    });
    const expected = await hub.call<{ total: number; items: { action: string }[] }>(
      'GET',
      `/api/v1/audit-log?${query}`,
    );
    expect(expected.items.map((a) => a.action)).toEqual([
      'user.delete',
      'user.update_password',
      'user.create',
    ]);
    await page.goto(url('/audit'));
    await page.locator('td[data-label="Action"]').first().waitFor();
    const actor = page.getByLabel(/^Actor/);
    await expect.poll(() => actor.locator('option').allTextContents()).toContain(hub.admin.email);
    await actor.selectOption({ label: hub.admin.email });
    await page.getByLabel('Action starts with').fill('user.');
    await page.getByLabel('Target type').fill('user');
    await page.getByLabel('Target id').fill(opsId);
    await page.getByLabel('From (day)').fill(today);
    await page.getByLabel('To (day, inclusive)').fill(today);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.url()).toContain(`targetId=${opsId}`);
    const actions = () => page.locator('td[data-label="Action"]').allTextContents();
    await expect.poll(actions).toEqual(expected.items.map((a) => a.action));
    // The form shows the filter it applied (it comes back from the address).
    expect(await actor.inputValue()).toBe(adminId);
    expect(await page.getByLabel('Target id').inputValue()).toBe(opsId);
    expect(await page.getByLabel('From (day)').inputValue()).toBe(today);
    await expectAccessible(page, 'audit log filtered');
    // The export carries the same filter: the same entries, as CSV.
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const lines = readFileSync(await file.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines[0]?.startsWith('id,at,actor_user_id')).toBe(true);
    expect(lines.slice(1).map((l) => l.split(',')[5])).toEqual(expected.items.map((a) => a.action));
    // An actor link narrows to that actor alone; Clear shows everything again.
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => page.url()).not.toContain('targetId');
    await expect.poll(async () => (await actions()).length).toBeGreaterThan(expected.total);
  });

  it('edits and deletes a location and a merchant from their lists', async () => {
    failShot('locations-merchants');
    const spare = await hub.call<{ id: string }>('POST', '/api/v1/merchants', { name: 'Porto Roasters' });
    const kiosk = await hub.call<{ id: string }>('POST', '/api/v1/locations', { merchantId, name: 'Kiosk' });
    await page.goto(url('/locations'));
    await page.getByRole('button', { name: 'Edit Kiosk' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Kiosk' });
    await edit.getByLabel('Address').fill('Rua Augusta 1');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await expect
      .poll(() => page.locator('tr', { hasText: 'Kiosk' }).textContent())
      .toContain('Rua Augusta 1');
    expect(await hub.call('GET', `/api/v1/locations/${kiosk.id}`)).toMatchObject({
      address: 'Rua Augusta 1',
    });
    await page.getByRole('button', { name: 'Delete Kiosk' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('tr', { hasText: 'Kiosk' }).count()).toBe(0);
    await expect(hub.call('GET', `/api/v1/locations/${kiosk.id}`)).rejects.toThrow(/→ 404/);

    await page.goto(url('/merchants'));
    await page.getByRole('button', { name: 'Edit Porto Roasters' }).click();
    const merchant = page.getByRole('dialog', { name: 'Edit Porto Roasters' });
    await merchant.getByLabel('Time zone (IANA)').fill('Europe/Madrid');
    await merchant.getByRole('button', { name: 'Save' }).click();
    await merchant.waitFor({ state: 'detached' });
    expect(await hub.call('GET', `/api/v1/merchants/${spare.id}`)).toMatchObject({
      timeZone: 'Europe/Madrid',
    });
    await expectAccessible(page, 'merchants with actions');
    // A merchant that owns machines cannot go: the page says why and the merchant stays.
    await page.getByRole('button', { name: 'Delete Lisbon Coffee' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('tr', { hasText: 'Lisbon Coffee' }).getByRole('alert').waitFor();
    expect(await hub.call('GET', `/api/v1/merchants/${merchantId}`)).toMatchObject({ name: 'Lisbon Coffee' });
    await page.getByRole('button', { name: 'Delete Porto Roasters' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('tr', { hasText: 'Porto Roasters' }).count()).toBe(0);
    await expect(hub.call('GET', `/api/v1/merchants/${spare.id}`)).rejects.toThrow(/→ 404/);
  });

  it('uploads firmware and runs a campaign from the Firmware page: per-phase progress, pause, resume, cancel', async () => {
    failShot('firmware');
    const bytes = randomBytes(4096);
    await page.goto(url('/firmware'));
    await page.getByRole('heading', { name: 'Upload an artifact' }).waitFor();
    await page.getByLabel('File').setInputFiles({
      name: 'brewer-9.9.9.bin',
      mimeType: 'application/octet-stream',
      buffer: bytes,
    });
    await page.getByLabel('Kind').selectOption('brewer-firmware');
    await page.getByLabel('Version', { exact: true }).fill('9.9.9');
    await page.getByLabel('Models (comma-separated)').fill('cm-1');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('cell', { name: '9.9.9' }).waitFor();
    const artifacts = await hub.call<{ items: { version: string; sha256: string; size: number }[] }>(
      'GET',
      '/api/v1/artifacts',
    );
    expect(artifacts.items.find((a) => a.version === '9.9.9')).toMatchObject({
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    await expectAccessible(page, 'firmware with an artifact');

    // A campaign over the machine that never connects: its command waits queued, so the campaign stays running.
    await page.getByLabel('Name', { exact: true }).fill('Boiler 9.9.9');
    await page.getByLabel(/^Machines \(ids/).fill(shelfId);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByRole('button', { name: 'Boiler 9.9.9' }).click();
    const rollouts = await hub.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/rollouts');
    const id = rollouts.items.find((r) => r.name === 'Boiler 9.9.9')?.id ?? '';
    type Rollout = { status: string; phaseSummaries: { devices: number; counts: Record<string, number> }[] };
    const rollout = () => hub.call<Rollout>('GET', `/api/v1/rollouts/${id}`);
    expect((await rollout()).status).toBe('running');
    const detail = page.locator('section[aria-labelledby="campaign-title"]');
    const title = detail.locator('#campaign-title');
    await expect.poll(() => title.textContent()).toBe('Boiler 9.9.9: running');
    // Per phase: its machines and their progress, as the API counts them.
    const phases = detail.getByRole('region', { name: 'Phases' }).locator('tbody tr');
    await expect.poll(() => phases.count()).toBe(2);
    expect(await phases.first().locator('td[data-label="Machines"]').textContent()).toBe('1');
    const counted = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([s, n]) => `${n} ${s.replace(/_/g, ' ')}`)
        .join(', ');
    await expect
      .poll(async () => {
        const shown = await phases.first().locator('td[data-label="Progress"]').textContent();
        const api = counted((await rollout()).phaseSummaries[0]?.counts ?? {});
        return shown === api && api !== '' ? 'same' : `page ${shown}, API ${api}`;
      })
      .toBe('same');
    await detail.getByRole('region', { name: 'Machines' }).getByRole('link', { name: shelfId }).waitFor();
    await expectAccessible(page, 'firmware campaign');

    for (const [button, status] of [
      ['Pause', 'paused'],
      ['Resume', 'running'],
    ] as const) {
      await detail.getByRole('button', { name: button, exact: true }).click();
      await expect.poll(async () => (await rollout()).status).toBe(status);
      await expect.poll(() => title.textContent()).toBe(`Boiler 9.9.9: ${status}`);
    }
    await detail.getByRole('button', { name: 'Cancel campaign' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel campaign' }).click();
    await expect.poll(async () => (await rollout()).status).toBe('cancelled');
    await expect.poll(() => title.textContent()).toBe('Boiler 9.9.9: cancelled');
    await expect
      .poll(() => page.getByRole('region', { name: 'Campaigns' }).locator('tbody tr').first().textContent())
      .toContain('cancelled');
    expect(await detail.getByRole('button', { name: /Pause|Resume|Cancel campaign/ }).count()).toBe(0);
  });

  it("a merchant admin manages its own merchant's users, and sees no platform pages or actions", async () => {
    const bossContext = await browser.newContext();
    page = await bossContext.newPage();
    page.setDefaultTimeout(10_000);
    failShot('merchant-admin');
    await page.goto(url('/'));
    await page.getByLabel('Email').fill(boss.email);
    await page.getByLabel('Password').fill(boss.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Users' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Merchants' }).count()).toBe(0);
    await page.goto(url('/users'));
    await page.getByRole('button', { name: `Edit ${viewer.email}` }).waitFor();
    await page.getByRole('button', { name: `Delete ${viewer.email}` }).waitFor();
    // The platform's superadmin is not theirs to see, and nobody deletes themselves.
    expect(await page.getByRole('cell', { name: hub.admin.email }).count()).toBe(0);
    expect(await page.getByRole('button', { name: `Delete ${boss.email}` }).count()).toBe(0);
    await page.getByRole('button', { name: `Edit ${viewer.email}` }).click();
    const roles = page.getByRole('dialog').getByLabel('Role').locator('option');
    expect(await roles.allTextContents()).not.toContain('superadmin');
    await expectAccessible(page, 'edit user (merchant admin)');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    // Artifacts are the platform's to upload; a merchant admin starts campaigns of them.
    await page.goto(url('/firmware'));
    await page.getByRole('heading', { name: 'Start a campaign' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Upload an artifact' }).count()).toBe(0);
    await bossContext.close();
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
    for (const name of [
      'Lock sales',
      'Unlock sales',
      'Rinse',
      'Descale',
      'Restart agent',
      'Diagnostics',
      'Revoke',
      'Download DEX',
      'Reset counters',
    ])
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    // Cleaning compliance is the machine's state: a viewer reads it.
    await page.getByRole('heading', { name: 'Cleaning' }).waitFor();
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
