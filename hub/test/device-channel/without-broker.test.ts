import { DEVICE_HTTP_PATHS } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';

/** An API built without a broker says so on the device endpoints, instead of pretending to serve them. */
describe('device endpoints of an API without a device channel', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi('sqlite');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('answer 503 UNAVAILABLE as problem+json', async () => {
    expect(t.deps.deviceChannel).toBeNull();
    for (const [method, path] of [
      ['GET', DEVICE_HTTP_PATHS.commands],
      ['POST', DEVICE_HTTP_PATHS.messages],
      ['POST', DEVICE_HTTP_PATHS.records],
    ] as const) {
      const res = await t.request(method, path, { ...(method === 'POST' ? { rawBody: '{}' } : {}) });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect((await res.json()).code).toBe('UNAVAILABLE');
    }
  });
});
