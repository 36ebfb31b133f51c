import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (installed by .ci/run); headless, and without the sandbox root cannot use. */
export const CHROMIUM = process.env.CREMA_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CREMA_CHROMIUM`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page and fails on any serious or critical violation. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  // Evaluated through the DevTools protocol: the console's CSP (script-src 'self') rightly blocks inline tags.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // Runs in the page: `globalThis` is its window (this package's types have no DOM).
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page at run time
    const g = globalThis as any;
    const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return (
      result.violations as { id: string; impact: string; help: string; nodes: { target: string[] }[] }[]
    )
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
  expect(violations, `accessibility of ${name}`).toEqual([]);
}

/** Where screenshots of failed steps go (CI can collect CREMA_ARTIFACTS_DIR). */
export const ARTIFACTS = process.env.CREMA_ARTIFACTS_DIR ?? join(tmpdir(), 'crema-console-artifacts');

export async function screenshot(page: Page | undefined, name: string): Promise<void> {
  if (!page || page.isClosed()) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true }).catch(() => undefined);
  process.stderr.write(`console test screenshot: ${path}\n`);
}
