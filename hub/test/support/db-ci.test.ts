import { afterEach, describe, expect, it, vi } from 'vitest';

/** The PostgreSQL variant must fail, not vanish, under CI when the database is unreachable. */
describe('storage backends when PostgreSQL is unreachable', () => {
  const saved = { CI: process.env.CI, url: process.env.CREMA_TEST_PG_URL };
  afterEach(() => {
    if (saved.CI === undefined) delete process.env.CI;
    else process.env.CI = saved.CI;
    if (saved.url === undefined) delete process.env.CREMA_TEST_PG_URL;
    else process.env.CREMA_TEST_PG_URL = saved.url;
    vi.resetModules();
  });

  const load = async (ci: boolean) => {
    if (ci) process.env.CI = 'true';
    else delete process.env.CI;
    process.env.CREMA_TEST_PG_URL = 'postgres://postgres@127.0.0.1:1/nowhere';
    vi.resetModules();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      return await import('./db');
    } finally {
      warn.mockRestore();
    }
  };

  it('under CI keeps postgres in the list, and opening it fails', async () => {
    const mod = await load(true);
    expect(mod.BACKENDS).toEqual(['sqlite', 'postgres']);
    await expect(mod.openTestDb('postgres')).rejects.toThrow();
  });

  it('locally falls back to SQLite only', async () => {
    const mod = await load(false);
    expect(mod.BACKENDS).toEqual(['sqlite']);
  });
});
