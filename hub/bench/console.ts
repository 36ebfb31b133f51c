/**
 * The admin console's figures: first load on loopback against a hub holding `--devices` machines and
 * `--orders` orders (the `pnpm demo` generator), the script's size gzipped, and the rows each list loads
 * against the rows it shows.
 *   pnpm bench hub/console [--devices 200] [--orders 5000]
 * Targets: first load ≤ 1 s, script ≤ 150 KB gzipped, no list loads more rows than it shows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { systemClock } from '@crema/protocol';
import pino from 'pino';
import { chromium, type Page } from 'playwright-core';
import { PasswordHasher } from '../src/auth/passwords';
import { openDb } from '../src/db/connect';
import { migrateToLatest } from '../src/db/migrate';
import { generateDemo } from '../src/demo/generate';
import { Hub } from '../src/hub';
import { loadSigningKey } from '../src/operations/recipes/signing-key';

const { values } = parseArgs({
  options: { devices: { type: 'string', default: '200' }, orders: { type: 'string', default: '5000' } },
  args: process.argv.slice(2).filter((a) => a !== '--'),
});
const devices = Number(values.devices);
const orders = Number(values.orders);
const dist = new URL('../console/dist/assets/', import.meta.url);

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const js = readFileSync(new URL('app.js', dist));
const css = readFileSync(new URL('app.css', dist));

const dataDir = mkdtempSync(join(tmpdir(), 'crema-bench-console-'));
const db = openDb(join(dataDir, 'hub.sqlite'));
await migrateToLatest(db.kysely);
const demo = await generateDemo(
  db,
  { devices, orders, merchants: 1, days: 14 },
  { clock: systemClock, passwords: new PasswordHasher(), signingKey: loadSigningKey(dataDir, undefined) },
);
await db.close();
const user = demo.users.find((u) => u.role === 'merchant_admin');
if (!user) throw new Error('the demo made no merchant admin');

const hub = new Hub({
  config: {
    host: '127.0.0.1',
    port: 0,
    mqttPort: 0,
    dataDir,
    logLevel: 'silent',
    adminEmail: 'bench@crema.local',
    adminPassword: randomBytes(18).toString('base64url'),
  },
  logger: pino({ level: 'silent' }),
  announce: () => {},
});
const { http } = await hub.start();
const browser = await chromium.launch({
  executablePath: process.env.CREMA_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});

/** Items each JSON list response carried, by path. */
function watchLists(page: Page): Map<string, number> {
  const loaded = new Map<string, number>();
  page.on('response', async (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/api/v1/') || !res.headers()['content-type']?.includes('json')) return;
    const body = (await res.json().catch(() => null)) as { items?: unknown[] } | null;
    if (Array.isArray(body?.items))
      loaded.set(url.pathname, Math.max(loaded.get(url.pathname) ?? 0, body.items.length));
  });
  return loaded;
}

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Cold: an empty cache, the login page until its form shows.
  let t0 = performance.now();
  await page.goto(`${http}/console/`);
  await page.getByLabel('Email').waitFor();
  const loginPage = performance.now() - t0;
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  t0 = performance.now();
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-stat="Orders today"] .stat-value').waitFor();
  const loginToDashboard = performance.now() - t0;
  // A returning operator: the session cookie is set; a fresh page loads and shows the live dashboard.
  const fresh = await context.newPage();
  t0 = performance.now();
  await fresh.goto(`${http}/console/`);
  await fresh.locator('[data-stat="Orders today"] .stat-value').waitFor();
  const firstLoad = performance.now() - t0;

  const rows: string[] = [];
  let over = 0;
  for (const [hash, list] of [
    ['/machines', '/api/v1/devices'],
    ['/orders', '/api/v1/orders'],
    ['/materials', '/api/v1/materials/bins'],
    ['/audit', '/api/v1/audit-log'],
  ] as const) {
    const p = await context.newPage();
    const loaded = watchLists(p);
    const answered = p.waitForResponse((r) => new URL(r.url()).pathname === list);
    await p.goto(`${http}/console/#${hash}`);
    const body = (await (await answered).json()) as { items: unknown[] };
    await p.locator('tbody tr td[data-label]').first().waitFor();
    const shown = await p.locator('table').first().locator('tbody tr').count();
    const got = Math.max(body.items.length, loaded.get(list) ?? 0);
    if (got > shown) over++;
    rows.push(
      `  ${hash.padEnd(10)} loaded ${String(got).padStart(3)} rows, shows ${String(shown).padStart(3)}`,
    );
    await p.close();
  }

  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log(`console against ${devices} machines, ${orders} orders (hub and chromium on loopback)`);
  console.log(`  login page, cold            ${ms(loginPage)}`);
  console.log(`  log in → dashboard          ${ms(loginToDashboard)}`);
  console.log(`  first load (session cookie) ${ms(firstLoad)}   target ≤ 1000 ms`);
  console.log(
    `  script ${kb(js.length)} (${kb(gzipSync(js).length)} gzipped), stylesheet ${kb(css.length)} (${kb(gzipSync(css).length)} gzipped)   target ≤ 150 KB gzipped`,
  );
  console.log('  lists:');
  for (const r of rows) console.log(r);
  console.log(`  lists loading more rows than they show: ${over}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await browser.close();
  await hub.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
