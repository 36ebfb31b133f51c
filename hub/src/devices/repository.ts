import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import { type Kysely, type Selectable, type SelectQueryBuilder, SqliteAdapter, sql } from 'kysely';
import type { Database } from '../db/database';
import { QueryTemplates } from '../db/query-templates';
import type { ReadCache } from '../db/read-cache';
import type { DevicesTable } from '../db/tables/core';
import { HubError } from '../errors';
import type { TenantScope } from '../rbac/scope';

export type DeviceRow = Selectable<DevicesTable>;

export interface DeviceView {
  id: string;
  merchantId: string;
  locationId: string | null;
  model: string;
  name: string | null;
  status: 'active' | 'revoked';
  credentialRotatedAt: number;
  revokedAt: number | null;
  createdAt: number;
}

/** Columns lists and exports need: never the credential hash. */
const LIST_COLUMNS = [
  'id',
  'merchant_id',
  'location_id',
  'model',
  'name',
  'credential_rotated_at',
  'revoked_at',
  'created_at',
] as const;
export type DeviceListRow = Omit<DeviceRow, 'credential_hash'>;
/** A list row with the device's connection state (from device_state; a device never seen is offline). */
export type DeviceListStateRow = DeviceListRow & { online: number; last_seen_at: number | null };

export interface DeviceListItem extends DeviceView {
  online: boolean;
  lastSeenAt: number | null;
}

export function toDeviceListItem(row: DeviceListStateRow): DeviceListItem {
  return { ...toDeviceView(row), online: Number(row.online) === 1, lastSeenAt: row.last_seen_at };
}

/** The connection state of the `devices` row in scope, as correlated reads of its device_state row. */
const STATE_COLUMNS = [
  sql<number>`coalesce((select ds.online from device_state ds where ds.device_id = devices.id), 0)`.as(
    'online',
  ),
  sql<number | null>`(select ds.last_seen_at from device_state ds where ds.device_id = devices.id)`.as(
    'last_seen_at',
  ),
] as const;

export function toDeviceView(row: DeviceListRow): DeviceView {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    locationId: row.location_id,
    model: row.model,
    name: row.name,
    status: row.revoked_at === null ? 'active' : 'revoked',
    credentialRotatedAt: row.credential_rotated_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

/** `toDeviceListItem` as SQLite json_object arguments over the list columns (of a subquery `p`), same key order. */
const VIEW_JSON = sql.raw(
  [
    `'id', p.id`,
    `'merchantId', p.merchant_id`,
    `'locationId', p.location_id`,
    `'model', p.model`,
    `'name', p.name`,
    `'status', case when p.revoked_at is null then 'active' else 'revoked' end`,
    `'credentialRotatedAt', p.credential_rotated_at`,
    `'revokedAt', p.revoked_at`,
    `'createdAt', p.created_at`,
    `'online', json(case when p.online = 1 then 'true' else 'false' end)`,
    `'lastSeenAt', p.last_seen_at`,
  ].join(', '),
);

export const DEVICE_SORTS = ['id', 'name', 'model', 'createdAt'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];
const SORT_COLUMN = { id: 'id', name: 'name', model: 'model', createdAt: 'created_at' } as const;

export interface DeviceFilter {
  merchantId?: string;
  locationId?: string;
  model?: string;
  status?: 'active' | 'revoked';
  /** Connected now (true) or not (false), as the fleet state says. */
  online?: boolean;
  /** With an open (not cleared) operator alarm (true) or without one (false). */
  alarm?: boolean;
  /** Substring of id, name or model, case-insensitive. */
  q?: string;
}

const likePattern = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

type FilterShape = {
  scoped: boolean;
  merchantId: boolean;
  locationId: boolean;
  model: boolean;
  status: 'active' | 'revoked' | null;
  online: boolean | null;
  alarm: boolean | null;
  q: boolean;
};
type FilterValues = { scope: string; merchantId: string; locationId: string; model: string; pattern: string };

// biome-ignore lint/complexity/noBannedTypes: Kysely's selection type before any column is selected.
type DevicesFrom = SelectQueryBuilder<Database, 'devices', {}>;

/** The scope and filter conditions; branches on `shape` only, so it can be compiled once per shape. */
function whereMatching(from: DevicesFrom, shape: FilterShape, values: FilterValues): DevicesFrom {
  return from
    .$if(shape.scoped, (q) => q.where('merchant_id', '=', values.scope))
    .$if(shape.merchantId, (q) => q.where('merchant_id', '=', values.merchantId))
    .$if(shape.locationId, (q) => q.where('location_id', '=', values.locationId))
    .$if(shape.model, (q) => q.where('model', '=', values.model))
    .$if(shape.status === 'active', (q) => q.where('revoked_at', 'is', null))
    .$if(shape.status === 'revoked', (q) => q.where('revoked_at', 'is not', null))
    .$if(shape.online !== null, (q) => {
      const connected = sql<boolean>`exists (select 1 from device_state ds where ds.device_id = devices.id and ds.online = 1)`;
      return q.where(shape.online ? connected : sql<boolean>`not ${connected}`);
    })
    .$if(shape.alarm !== null, (q) => {
      // Open as the alarms list and the dashboard count it: anything not cleared (ops_alarms_device_code serves it).
      const alarmed = sql<boolean>`exists (select 1 from ops_alarms oa where oa.device_id = devices.id and oa.status <> 'cleared')`;
      return q.where(shape.alarm ? alarmed : sql<boolean>`not ${alarmed}`);
    })
    .$if(shape.q, (q) => {
      // An explicit ESCAPE: SQLite has no default escape character for LIKE, PostgreSQL uses backslash.
      const like = (column: 'id' | 'name' | 'model') =>
        sql<boolean>`lower(${sql.ref(column)}) like ${values.pattern} escape '\\'`;
      return q.where((eb) => eb.or([like('id'), like('name'), like('model')]));
    });
}

/** Compiled list and count queries, per database (SQLite and PostgreSQL compile differently). */
const templates = new WeakMap<Kysely<Database>, QueryTemplates>();
function templatesOf(db: Kysely<Database>): QueryTemplates {
  let found = templates.get(db);
  if (!found) {
    found = new QueryTemplates();
    templates.set(db, found);
  }
  return found;
}

/** Devices as the tenant scope allows; every query here is filtered by the scope's merchant. */
export class DeviceRepository {
  /** `reads`: where list pages are kept while the database does not change (SQLite). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly scope: TenantScope,
    private readonly clock: Clock,
    private readonly reads?: ReadCache,
  ) {}

  private get kind(): 'sqlite' | 'other' {
    return this.db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'other';
  }

  private filtered(filter: DeviceFilter, executor: Kysely<Database> = this.db) {
    const { shape, values } = this.shapeOf(filter);
    return whereMatching(executor.selectFrom('devices'), shape, values);
  }

  /** Which conditions apply (the shape of the query) apart from the values they compare with. */
  private shapeOf(filter: DeviceFilter): { shape: FilterShape; values: FilterValues } {
    const m = this.scope.merchantId;
    const q = filter.q !== undefined && filter.q !== '' ? filter.q : undefined;
    return {
      shape: {
        scoped: m !== undefined,
        merchantId: filter.merchantId !== undefined,
        locationId: filter.locationId !== undefined,
        model: filter.model !== undefined,
        status: filter.status ?? null,
        online: filter.online ?? null,
        alarm: filter.alarm ?? null,
        q: q !== undefined,
      },
      values: {
        scope: m ?? '',
        merchantId: filter.merchantId ?? '',
        locationId: filter.locationId ?? '',
        model: filter.model ?? '',
        pattern: q === undefined ? '' : likePattern(q),
      },
    };
  }

  async list(
    filter: DeviceFilter,
    page: { limit: number; offset: number; sort: DeviceSort; order: 'asc' | 'desc' },
  ): Promise<{ items: DeviceListStateRow[]; total: number }> {
    const { shape, values } = this.shapeOf(filter);
    const column = SORT_COLUMN[page.sort];
    const templates = templatesOf(this.db);
    const itemsQuery = templates.compile(
      'devices.list',
      { ...shape, sort: column, order: page.order },
      { ...values, limit: page.limit, offset: page.offset },
      (s, v) =>
        whereMatching(this.db.selectFrom('devices'), s, v)
          .select(LIST_COLUMNS)
          .select(STATE_COLUMNS)
          .orderBy(s.sort, s.order)
          .$if(s.sort !== 'id', (q) => q.orderBy('id', s.order))
          .limit(v.limit)
          .offset(v.offset),
    );
    const { rows: items } = await this.db.executeQuery(itemsQuery);
    // A page that is not full and starts at 0 already holds everything: no count query needed. (A window
    // count in the same query was measured slower on SQLite: it materialises the whole filtered set.)
    if (page.offset === 0 && items.length < page.limit) return { items, total: items.length };
    return { items, total: await this.count(shape, values) };
  }

  private async count(shape: FilterShape, values: FilterValues): Promise<number> {
    const countQuery = templatesOf(this.db).compile('devices.count', shape, values, (s, v) =>
      whereMatching(this.db.selectFrom('devices'), s, v).select((eb) => eb.fn.countAll<number>().as('n')),
    );
    const { rows } = await this.db.executeQuery(countQuery);
    const count = rows[0];
    if (!count) throw new HubError('INTERNAL', 'the device count returned no row');
    return Number(count.n);
  }

  /**
   * The same page as `list`, with its items already as the JSON text of `items.map(toDeviceListItem)`. On SQLite
   * the database writes that text itself (json_object per row): no row objects, no view objects, no
   * JSON.stringify, about a third of the CPU of a 50-row page; the total comes with it. Elsewhere it is built
   * from `list`.
   */
  async listJson(
    filter: DeviceFilter,
    page: { limit: number; offset: number; sort: DeviceSort; order: 'asc' | 'desc' },
  ): Promise<{ itemsJson: string; total: number }> {
    if (this.kind !== 'sqlite') {
      const { items, total } = await this.list(filter, page);
      return { itemsJson: JSON.stringify(items.map(toDeviceListItem)), total };
    }
    const { shape, values } = this.shapeOf(filter);
    const queryShape = { ...shape, sort: SORT_COLUMN[page.sort], order: page.order };
    const queryValues = { ...values, limit: page.limit, offset: page.offset };
    // The shape and values name the page exactly, the tenant scope included (it is a condition like the others).
    const key = `devices.list.json\u0000${JSON.stringify(queryShape)}${JSON.stringify(queryValues)}`;
    const load = () => this.db.executeQuery(this.listJsonQuery(queryShape, queryValues));
    const { rows } = await (this.reads ? this.reads.read(key, load) : load());
    const row = rows[0];
    if (!row) throw new HubError('INTERNAL', 'the device page returned no row');
    return { itemsJson: row.items, total: Number(row.total) };
  }

  private listJsonQuery(
    shape: FilterShape & { sort: (typeof SORT_COLUMN)[DeviceSort]; order: 'asc' | 'desc' },
    values: FilterValues & { limit: number; offset: number },
  ) {
    return templatesOf(this.db).compile('devices.list.json', shape, values, (s, v) => {
      const rows = whereMatching(this.db.selectFrom('devices'), s, v)
        .select(LIST_COLUMNS)
        .select(STATE_COLUMNS)
        .orderBy(s.sort, s.order)
        .$if(s.sort !== 'id', (q) => q.orderBy('id', s.order))
        .limit(v.limit)
        .offset(v.offset);
      // The aggregate orders again: row order into an aggregate is not something SQL promises.
      const order = sql.raw(s.order);
      const by =
        s.sort === 'id' ? sql`p.id ${order}` : sql`${sql.ref(`p.${s.sort}`)} ${order}, p.id ${order}`;
      return this.db.selectFrom(rows.as('p')).select([
        sql<string>`coalesce(json_group_array(json_object(${VIEW_JSON}) order by ${by}), '[]')`.as('items'),
        // The total in the same statement: one round through Kysely and SQLite instead of two.
        whereMatching(this.db.selectFrom('devices'), s, v)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .as('total'),
      ]);
    });
  }

  /** Every matching device in id order, fetched in chunks so an export never holds the fleet in memory. */
  async *iterate(filter: DeviceFilter, chunk = 500): AsyncGenerator<DeviceListStateRow> {
    let after = '';
    for (;;) {
      const rows = await this.filtered(filter)
        .select(LIST_COLUMNS)
        .select(STATE_COLUMNS)
        .where('id', '>', after)
        .orderBy('id')
        .limit(chunk)
        .execute();
      yield* rows;
      const last = rows[rows.length - 1];
      if (!last || rows.length < chunk) return;
      after = last.id;
    }
  }

  /** The device, or NOT_FOUND when absent or of another merchant. */
  async get(id: string, executor: Kysely<Database> = this.db): Promise<DeviceRow> {
    const row = await this.filtered({}, executor).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'device not found');
    return row;
  }

  async create(
    executor: Kysely<Database>,
    input: {
      id?: string;
      merchantId: string;
      locationId: string | null;
      model: string;
      name: string | null;
      credentialHash: string;
    },
  ): Promise<DeviceRow> {
    const now = this.clock.now();
    const row: DeviceRow = {
      id: input.id ?? `cm-${ulid().toLowerCase()}`,
      merchant_id: input.merchantId,
      location_id: input.locationId,
      model: input.model,
      name: input.name,
      credential_hash: input.credentialHash,
      credential_rotated_at: now,
      revoked_at: null,
      created_at: now,
    };
    // Ids are global (they are MQTT topic segments), so a clash with another merchant's device is a conflict too.
    const taken = await executor
      .selectFrom('devices')
      .select('id')
      .where('id', '=', row.id)
      .executeTakeFirst();
    if (taken) throw new HubError('CONFLICT', 'a device with this id exists');
    await executor.insertInto('devices').values(row).execute();
    return row;
  }

  async update(
    executor: Kysely<Database>,
    id: string,
    patch: Partial<Pick<DeviceRow, 'name' | 'location_id' | 'model' | 'credential_hash' | 'revoked_at'>> & {
      rotated?: boolean;
    },
  ): Promise<{ before: DeviceRow; after: DeviceRow }> {
    const before = await this.get(id, executor);
    const { rotated, ...fields } = patch;
    const after: DeviceRow = {
      ...before,
      ...fields,
      credential_rotated_at: rotated ? this.clock.now() : before.credential_rotated_at,
    };
    await executor
      .updateTable('devices')
      .set({
        name: after.name,
        location_id: after.location_id,
        model: after.model,
        credential_hash: after.credential_hash,
        credential_rotated_at: after.credential_rotated_at,
        revoked_at: after.revoked_at,
      })
      .where('id', '=', id)
      .where('merchant_id', '=', before.merchant_id)
      .execute();
    return { before, after };
  }
}
