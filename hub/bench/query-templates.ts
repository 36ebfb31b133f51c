import { sql } from 'kysely';
import { openDb } from '../src/db/connect';
import { QueryTemplates } from '../src/db/query-templates';
import { machineInfo, round } from './support/setup';

/**
 * Does the compiled-query cache (`db/query-templates.ts`) pay? Times building and compiling the device list
 * page query (the P7 hot path's shape) with Kysely on every call against reusing its compiled template. CPU
 * time per call, so the answer holds on a busy machine.
 *
 *   pnpm bench hub/query-templates
 */
const db = openDb(':memory:');
const templates = new QueryTemplates();
type Shape = { sort: 'id' | 'name'; order: 'asc' | 'desc' };
type Values = { scope: string; limit: number; offset: number };
const build = (s: Shape, v: Values) =>
  db.kysely
    .selectFrom(
      db.kysely
        .selectFrom('devices')
        .where('merchant_id', '=', v.scope)
        .select([
          'id',
          'merchant_id',
          'location_id',
          'model',
          'name',
          'credential_rotated_at',
          'revoked_at',
          'created_at',
        ])
        .orderBy(s.sort, s.order)
        .limit(v.limit)
        .offset(v.offset)
        .as('p'),
    )
    .select([
      sql<string>`coalesce(json_group_array(json_object('id', p.id, 'name', p.name) order by p.id), '[]')`.as(
        'items',
      ),
      (eb) => eb.fn.countAll<number>().as('n'),
    ]);

function cpuPerCall(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < 2000; i++) fn(i);
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

console.log('machine', JSON.stringify(machineInfo()));
const shape: Shape = { sort: 'id', order: 'asc' };
const values = (i: number): Values => ({ scope: `m-${i % 7}`, limit: 50, offset: (i % 3) * 50 });
for (let round_ = 1; round_ <= 3; round_++) {
  const fresh = cpuPerCall(20_000, (i) => build(shape, values(i)).compile());
  const cached = cpuPerCall(20_000, (i) => templates.compile('devices.page', shape, values(i), build));
  console.log(
    `round ${round_}: build+compile ${round(fresh)} µs/call, template ${round(cached)} µs/call ` +
      `(saves ${round(fresh - cached)} µs per query)`,
  );
}
await db.close();
