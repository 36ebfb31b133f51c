import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, openTestDb, type TestDb } from '../../test/support/db';
import { QueryTemplates } from './query-templates';

describe.each(BACKENDS)('QueryTemplates (%s)', (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(backend);
    const db = t.db.kysely;
    await db.insertInto('merchants').values({ id: 'm1', name: 'One', created_at: 1 }).execute();
    await db.insertInto('merchants').values({ id: 'm2', name: 'Two', created_at: 2 }).execute();
  });
  afterAll(() => t.cleanup());

  const merchants = (templates: QueryTemplates, shape: { named: boolean }, id: string, name: string) =>
    templates.compile('merchants', shape, { id, name }, (s, v) =>
      t.db.kysely
        .selectFrom('merchants')
        .select(['id', 'name'])
        .where('id', '=', v.id)
        .$if(s.named, (q) => q.where('name', '=', v.name)),
    );

  it('reuses the compiled text of a shape with the values of each call', async () => {
    const templates = new QueryTemplates();
    const first = merchants(templates, { named: false }, 'm1', '');
    const second = merchants(templates, { named: false }, 'm2', '');
    expect(second.sql).toBe(first.sql);
    expect(second.parameters).toEqual(['m2']);
    expect((await t.db.kysely.executeQuery(first)).rows).toEqual([{ id: 'm1', name: 'One' }]);
    expect((await t.db.kysely.executeQuery(second)).rows).toEqual([{ id: 'm2', name: 'Two' }]);
  });

  it('compiles each shape on its own', async () => {
    const templates = new QueryTemplates();
    merchants(templates, { named: false }, 'm1', '');
    const named = merchants(templates, { named: true }, 'm1', 'Two');
    expect(named.parameters).toEqual(['m1', 'Two']);
    expect((await t.db.kysely.executeQuery(named)).rows).toEqual([]);
  });

  it('does not reuse a query holding a parameter that is not one of the values', async () => {
    const templates = new QueryTemplates();
    const build = (prefix: string) =>
      templates.compile('constant', {}, { id: 'm1' }, (_s, v) =>
        t.db.kysely.selectFrom('merchants').select('id').where('id', '=', v.id).where('name', 'like', prefix),
      );
    expect(build('O%').parameters).toEqual(['m1', 'O%']);
    const other = build('T%');
    expect(other.parameters).toEqual(['m1', 'T%']);
    expect((await t.db.kysely.executeQuery(other)).rows).toEqual([]);
  });
});
