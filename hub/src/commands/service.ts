import type { CommandStatus } from '@crema/protocol';
import type { Insertable, Selectable } from 'kysely';
import type { CommandBatchesTable, CommandsTable } from '../db/tables/operations';
import { HubError } from '../errors';
import {
  type Actor,
  type OpsContext,
  type Page,
  type PageQuery,
  pageBounds,
  type Scope,
} from '../operations/context';
import { deviceInScope, locationInScope, merchantInScope } from '../operations/shared/lookup';
import { inTx } from '../operations/shared/tx';
import { CANCELLABLE, RETRYABLE } from './lifecycle';
import { type CommandView, toCommandView, validateCommand } from './model';

export type CommandTarget = { deviceIds: string[] } | { locationId: string } | { merchantId: string };

export interface CreateCommands {
  kind: string;
  params?: unknown;
  /** Time-to-live from now; after it the hub expires the command and devices refuse it. */
  ttlMs?: number;
  target: CommandTarget;
}

export interface BatchView {
  id: string;
  merchantId: string | null;
  kind: string;
  params: Record<string, unknown>;
  target: CommandTarget;
  ttlMs: number;
  createdBy: string;
  createdAt: number;
  total: number;
  counts: Partial<Record<CommandStatus, number>>;
}

export interface CommandFilter extends PageQuery {
  status?: CommandStatus;
  deviceId?: string;
  batchId?: string;
  kind?: string;
}

export const DEFAULT_TTL_MS = 60 * 60 * 1000;
export const MAX_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** One batch reaches at most this many machines; bigger fleets are split by location. */
export const MAX_BATCH_DEVICES = 5000;

/** Remote commands: created singly or in batches, cancelled while queued, retried when they failed. */
export class CommandService {
  constructor(private readonly ctx: OpsContext) {}

  async create(
    scope: Scope,
    actor: Actor,
    input: CreateCommands,
  ): Promise<{ batch: BatchView; commands: CommandView[] }> {
    const ttlMs = input.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > MAX_TTL_MS) {
      throw new HubError('VALIDATION_FAILED', `ttlMs must be between 1000 and ${MAX_TTL_MS}`);
    }
    const issuedAt = this.ctx.now();
    const { kind, params } = validateCommand(input.kind, input.params, issuedAt, issuedAt + ttlMs);
    const devices = await this.resolveTarget(scope, input.target);
    if (devices.length === 0) throw new HubError('VALIDATION_FAILED', 'the target has no active devices');
    if (devices.length > MAX_BATCH_DEVICES) {
      throw new HubError('VALIDATION_FAILED', `a batch reaches at most ${MAX_BATCH_DEVICES} devices`);
    }
    const merchants = new Set(devices.map((d) => d.merchantId));
    const batch: Selectable<CommandBatchesTable> = {
      id: this.ctx.newId(),
      merchant_id: merchants.size === 1 ? (devices[0]?.merchantId ?? null) : null,
      kind,
      params: JSON.stringify(params),
      target: JSON.stringify(input.target),
      ttl_ms: ttlMs,
      created_by: actor.userId,
      created_at: issuedAt,
    };
    const rows = devices.map((d) => this.commandRow(batch, d, actor, issuedAt, null));
    await inTx(this.ctx.db, async (tx) => {
      await tx.insertInto('command_batches').values(batch).execute();
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto('commands')
          .values(rows.slice(i, i + 500))
          .execute();
      }
    });
    return { batch: await this.getBatch(scope, batch.id), commands: rows.map(toCommandView) };
  }

  async list(scope: Scope, filter: CommandFilter): Promise<Page<CommandView>> {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('commands');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
    if (filter.batchId) q = q.where('batch_id', '=', filter.batchId);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('issued_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toCommandView), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<CommandView> {
    return toCommandView(await this.row(scope, id));
  }

  async listBatches(scope: Scope, page: PageQuery): Promise<Page<BatchView>> {
    const { limit, offset } = pageBounds(page);
    let q = this.ctx.db.selectFrom('command_batches');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = await Promise.all(rows.map((r) => this.batchView(scope, r)));
    return { items, total: Number(count.n), limit, offset };
  }

  async getBatch(scope: Scope, id: string): Promise<BatchView> {
    let q = this.ctx.db.selectFrom('command_batches').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `command batch ${id} not found`);
    return this.batchView(scope, row);
  }

  /** Cancels a command the machine has not received yet; anything further along is INVALID_TRANSITION. */
  async cancel(scope: Scope, id: string): Promise<{ before: CommandView; after: CommandView }> {
    const before = await this.row(scope, id);
    if (!CANCELLABLE.includes(before.status as CommandStatus)) {
      throw new HubError('INVALID_TRANSITION', `a ${before.status} command cannot be cancelled`);
    }
    const now = this.ctx.now();
    const res = await this.ctx.db
      .updateTable('commands')
      .set({ status: 'cancelled', finished_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', 'in', [...CANCELLABLE])
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1)
      throw new HubError('INVALID_TRANSITION', 'the command moved on meanwhile');
    return { before: toCommandView(before), after: toCommandView(await this.row(scope, id)) };
  }

  /** Queues a fresh command for every failed or expired one of the batch not retried yet. */
  async retryFailed(scope: Scope, actor: Actor, batchId: string): Promise<CommandView[]> {
    let bq = this.ctx.db.selectFrom('command_batches').selectAll().where('id', '=', batchId);
    if (scope.merchantId !== undefined) bq = bq.where('merchant_id', '=', scope.merchantId);
    const batch = await bq.executeTakeFirst();
    if (!batch) throw new HubError('NOT_FOUND', `command batch ${batchId} not found`);
    return inTx(this.ctx.db, async (tx) => {
      let q = tx
        .selectFrom('commands as c')
        .selectAll('c')
        .where('c.batch_id', '=', batchId)
        .where('c.status', 'in', [...RETRYABLE])
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('commands as r').select('r.id').whereRef('r.retry_of', '=', 'c.id'))),
        );
      if (scope.merchantId !== undefined) q = q.where('c.merchant_id', '=', scope.merchantId);
      const failed = await q.execute();
      const now = this.ctx.now();
      const rows = failed.map((f) =>
        this.commandRow(batch, { id: f.device_id, merchantId: f.merchant_id }, actor, now, f.id),
      );
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto('commands')
          .values(rows.slice(i, i + 500))
          .execute();
      }
      return rows.map(toCommandView);
    });
  }

  private commandRow(
    batch: Selectable<CommandBatchesTable>,
    device: { id: string; merchantId: string },
    actor: Actor,
    issuedAt: number,
    retryOf: string | null,
  ): Insertable<CommandsTable> & Selectable<CommandsTable> {
    const id = this.ctx.newId();
    return {
      id,
      merchant_id: device.merchantId,
      device_id: device.id,
      batch_id: batch.id,
      kind: batch.kind,
      params: batch.params,
      idempotency_key: id,
      status: 'queued',
      issued_at: issuedAt,
      expires_at: issuedAt + batch.ttl_ms,
      delivered_at: null,
      finished_at: null,
      updated_at: issuedAt,
      result_code: null,
      result_message: null,
      output: null,
      retry_of: retryOf,
      created_by: actor.userId,
      dispatch_owner: null,
      dispatch_until: null,
    };
  }

  private async resolveTarget(
    scope: Scope,
    target: CommandTarget,
  ): Promise<{ id: string; merchantId: string }[]> {
    if ('deviceIds' in target) {
      const unique = [...new Set(target.deviceIds)];
      const out = [];
      for (const id of unique) {
        const d = await deviceInScope(this.ctx, scope, id);
        if (d.revoked) throw new HubError('DEVICE_REVOKED', `device ${id} is revoked`);
        out.push({ id: d.id, merchantId: d.merchantId });
      }
      return out;
    }
    let q = this.ctx.db.selectFrom('devices').select(['id', 'merchant_id']).where('revoked_at', 'is', null);
    if ('locationId' in target) {
      const loc = await locationInScope(this.ctx, scope, target.locationId);
      q = q.where('location_id', '=', loc.id);
    } else {
      q = q.where('merchant_id', '=', await merchantInScope(this.ctx, scope, target.merchantId));
    }
    const rows = await q.orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, merchantId: r.merchant_id }));
  }

  private async batchView(scope: Scope, r: Selectable<CommandBatchesTable>): Promise<BatchView> {
    let q = this.ctx.db
      .selectFrom('commands')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('batch_id', '=', r.id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const counts: Partial<Record<CommandStatus, number>> = {};
    let total = 0;
    for (const row of await q.groupBy('status').execute()) {
      counts[row.status as CommandStatus] = Number(row.n);
      total += Number(row.n);
    }
    return {
      id: r.id,
      merchantId: r.merchant_id,
      kind: r.kind,
      params: JSON.parse(r.params) as Record<string, unknown>,
      target: JSON.parse(r.target) as CommandTarget,
      ttlMs: r.ttl_ms,
      createdBy: r.created_by,
      createdAt: r.created_at,
      total,
      counts,
    };
  }

  private async row(scope: Scope, id: string): Promise<Selectable<CommandsTable>> {
    let q = this.ctx.db.selectFrom('commands').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `command ${id} not found`);
    return row;
  }
}
