import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BACKENDS, TEST_PG_URL } from './db';
import { prepareTestDatabase } from './pg-test-db';

const withPath = (url: string, path: string, user?: string) => {
  const u = new URL(url);
  u.pathname = path;
  if (user) u.username = user;
  return u.toString();
};

describe('the PostgreSQL test database', () => {
  it('names a server that does not answer, with its address', async () => {
    const state = await prepareTestDatabase('postgres://postgres@127.0.0.1:1/crema_test');
    expect(state).toEqual({
      ready: false,
      problem: expect.stringContaining('no PostgreSQL server answers at 127.0.0.1:1'),
    });
  });
});

describe.each(BACKENDS.filter((b) => b === 'postgres'))(
  'the PostgreSQL test database on a live server (%s)',
  () => {
    it('is created when the server answers and only the database is missing', async () => {
      const name = `crema_t_${randomBytes(4).toString('hex')}`;
      const url = withPath(TEST_PG_URL, `/${name}`);
      try {
        expect(await prepareTestDatabase(url)).toEqual({ ready: true, created: true });
        expect(await prepareTestDatabase(url)).toEqual({ ready: true, created: false });
      } finally {
        const admin = new pg.Client({ connectionString: withPath(TEST_PG_URL, '/postgres') });
        await admin.connect();
        await admin.query(`drop database if exists ${name}`);
        await admin.end();
      }
    });

    it('says which user the server refused', async () => {
      const state = await prepareTestDatabase(withPath(TEST_PG_URL, '/crema_test', 'no_such_crema_user'));
      expect(state).toEqual({
        ready: false,
        problem: expect.stringContaining('refused the login of user "no_such_crema_user"'),
      });
    });
  },
);
