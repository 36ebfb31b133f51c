import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate';
import { migrations } from '../../src/db/migrations/index';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

const T = 1_780_000_000_000;

describe.each(BACKENDS)('migration 0018 (free-text assignees → users) on %s', (backend) => {
  let store: TestDb;
  let db: Kysely<unknown>;
  let schema: { schema?: string };

  beforeAll(async () => {
    store = await openTestDb(backend, { migrate: false });
    db = store.db.kysely as unknown as Kysely<unknown>;
    schema =
      backend === 'postgres'
        ? { schema: (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s ?? '' }
        : {};
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0018'));
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => before },
      ...(schema.schema ? { migrationTableSchema: schema.schema } : {}),
    }).migrateToLatest();
    if (error) throw error;
  });
  afterAll(() => store.cleanup());

  it('matches by email to a user of the merchant who may handle work orders; else unassigned, text kept', async () => {
    await sql`insert into merchants (id, name, created_at) values ('m1', 'One', ${T}), ('m2', 'Two', ${T})`.execute(
      db,
    );
    const user = (id: string, merchant: string, email: string, role: string) =>
      sql`insert into users (id, merchant_id, email, name, role, password_hash, password_changed_at, created_at, updated_at)
          values (${id}, ${merchant}, ${email}, null, ${role}, 'x', ${T}, ${T}, ${T})`.execute(db);
    await user('u-anna', 'm1', 'anna@example.test', 'ops_engineer');
    await user('u-vera', 'm1', 'vera@example.test', 'viewer');
    await user('u-otto', 'm2', 'otto@example.test', 'ops_engineer');
    const wo = (id: string, status: string, assignee: string | null) =>
      sql`insert into work_orders (id, merchant_id, device_id, alarm_id, title, description, priority, status, assignee,
            created_by, created_at, updated_at)
          values (${id}, 'm1', null, null, ${id}, null, 'normal', ${status}, ${assignee}, 'x', ${T}, ${T})`.execute(
        db,
      );
    await wo('w-match', 'in_progress', ' Anna@Example.test ');
    await wo('w-viewer', 'assigned', 'vera@example.test');
    await wo('w-other-merchant', 'resolved', 'otto@example.test');
    await wo('w-free', 'assigned', 'tech-anna');
    await wo('w-none', 'open', null);

    await migrateToLatest(db, schema);

    const rows = await sql<{ id: string; status: string; assignee_id: string | null }>`
      select id, status, assignee_id from work_orders order by id`.execute(db);
    expect(rows.rows).toEqual([
      { id: 'w-free', status: 'open', assignee_id: null },
      { id: 'w-match', status: 'in_progress', assignee_id: 'u-anna' },
      { id: 'w-none', status: 'open', assignee_id: null },
      { id: 'w-other-merchant', status: 'resolved', assignee_id: null },
      { id: 'w-viewer', status: 'open', assignee_id: null },
    ]);
    const events = await sql<{
      work_order_id: string;
      body: string;
      code: string;
      from_status: string;
      to_status: string;
    }>`
      select work_order_id, body, code, from_status, to_status from work_order_events order by work_order_id`.execute(
      db,
    );
    expect(events.rows).toEqual([
      {
        work_order_id: 'w-free',
        body: 'tech-anna',
        code: 'LEGACY_ASSIGNEE_UNMATCHED',
        from_status: 'assigned',
        to_status: 'open',
      },
      {
        work_order_id: 'w-other-merchant',
        body: 'otto@example.test',
        code: 'LEGACY_ASSIGNEE_UNMATCHED',
        from_status: 'resolved',
        to_status: 'resolved',
      },
      {
        work_order_id: 'w-viewer',
        body: 'vera@example.test',
        code: 'LEGACY_ASSIGNEE_UNMATCHED',
        from_status: 'assigned',
        to_status: 'open',
      },
    ]);
  });
});
