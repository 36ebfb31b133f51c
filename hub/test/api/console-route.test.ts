import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';

/** The console's files as the hub serves them (built by scripts/setup.sh into hub/console/dist). */
describe('the console route', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi('sqlite');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('leads / to the console', async () => {
    const res = await t.request('GET', '/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/');
  });

  it('serves the page and its script under a CSP that allows nothing from elsewhere', async () => {
    expect(
      existsSync(new URL('../../console/dist/index.html', import.meta.url)),
      'run sh scripts/setup.sh',
    ).toBe(true);
    const page = await t.request('GET', '/console/');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('/console/assets/app.js');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await t.request('GET', '/console/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
  });

  it('serves nothing outside the console folder', async () => {
    for (const path of [
      '/console/assets/..%2F..%2Fbuild%2Fbuild.ts',
      '/console/assets/.hidden',
      '/console/assets/nope.js',
    ])
      expect((await t.request('GET', path)).status, path).toBe(404);
  });
});
