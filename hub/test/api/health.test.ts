import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

describe.each(BACKENDS)('operational endpoints on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('/healthz answers while the process lives', async () => {
    const res = await t.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks the database and every registered check', async () => {
    const ok = await t.request('GET', '/readyz');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true } });
    let brokerUp = false;
    t.deps.readiness.add('broker', () => brokerUp);
    const down = await t.request('GET', '/readyz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'not_ready',
      checks: { database: true, migrations: true, broker: false },
    });
    brokerUp = true;
    expect((await t.request('GET', '/readyz')).status).toBe(200);
  });

  it('/metrics counts requests and latency by route pattern and status', async () => {
    const dev = await t.addDevice(t.fx.merchantA);
    await t.request('GET', `/api/v1/devices/${dev.id}`, { token: t.fx.usersA.viewer.token });
    await t.request('GET', '/api/v1/devices/cm-nope', { token: t.fx.usersA.viewer.token });
    const res = await t.request('GET', '/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(
      'crema_http_requests_total{method="GET",route="/api/v1/devices/:id",status="200"} 1',
    );
    expect(text).toContain(
      'crema_http_requests_total{method="GET",route="/api/v1/devices/:id",status="404"} 1',
    );
    expect(text).toContain(
      'crema_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/v1/devices/:id"',
    );
    expect(text).not.toContain(dev.id);
  });

  it('serves the OpenAPI document and Swagger UI without authentication', async () => {
    const doc = await (await t.request('GET', '/api/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/v1/devices/{id}');
    expect(doc.paths['/api/v1/devices'].get.parameters.map((p: { name: string }) => p.name)).toContain('q');
    expect(doc.components.schemas.Problem).toBeDefined();
    const ui = await t.request('GET', '/api/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await ui.text();
    // Offline-safe: the page names no other host, and every asset it names is served by the hub.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toEqual(
      expect.arrayContaining(['/api/docs/swagger-ui-bundle.js', '/api/docs/swagger-ui.css']),
    );
    for (const asset of assets) {
      const res = await t.request('GET', asset);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
    const init = await (await t.request('GET', '/api/docs/init.js')).text();
    expect(init).toContain('/api/openapi.json');
    const bundle = await t.request('GET', '/api/docs/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await bundle.text()).length).toBeGreaterThan(500_000);
  });
});
