import type { Selectable } from 'kysely';
import type { WorkOrderEventsTable, WorkOrdersTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { deviceInScope, owningMerchant } from '../shared/lookup';
import { inTx } from '../shared/tx';
import { assertTransition, type WorkOrderPriority, type WorkOrderStatus } from './state';

export interface WorkOrder {
  id: string;
  merchantId: string;
  deviceId: string | null;
  alarmId: string | null;
  title: string;
  description: string | null;
  priority: WorkOrderPriority;
  status: WorkOrderStatus;
  assignee: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface WorkOrderEvent {
  id: string;
  kind: 'comment' | 'transition' | 'assign';
  fromStatus: string | null;
  toStatus: string | null;
  body: string | null;
  createdBy: string;
  createdAt: number;
}

export interface CreateWorkOrder {
  merchantId?: string;
  deviceId?: string;
  alarmId?: string;
  title?: string;
  description?: string;
  priority?: WorkOrderPriority;
  assignee?: string;
}

export interface WorkOrderFilter extends PageQuery {
  status?: WorkOrderStatus;
  deviceId?: string;
  assignee?: string;
}

/** A change with the state before and after, for the audit log. */
export interface Change<T> {
  before: T;
  after: T;
}

/** Work orders: repairs and refills, created by hand or from an alarm, moved through their state machine. */
export class WorkOrderService {
  constructor(private readonly ctx: OpsContext) {}

  async create(scope: Scope, actor: Actor, input: CreateWorkOrder): Promise<WorkOrder> {
    const { db, now, newId } = this.ctx;
    let merchantId: string;
    let deviceId = input.deviceId ?? null;
    let title = input.title;
    if (input.alarmId !== undefined) {
      let q = db.selectFrom('ops_alarms').selectAll().where('id', '=', input.alarmId);
      if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
      const alarm = await q.executeTakeFirst();
      if (!alarm) throw new HubError('NOT_FOUND', `alarm ${input.alarmId} not found`);
      if (deviceId !== null && deviceId !== alarm.device_id) {
        throw new HubError('VALIDATION_FAILED', 'deviceId differs from the alarm device');
      }
      merchantId = alarm.merchant_id;
      deviceId = alarm.device_id;
      title ??= `${alarm.code} on ${alarm.device_id}`;
    } else if (deviceId !== null) {
      merchantId = (await deviceInScope(this.ctx, scope, deviceId)).merchantId;
    } else {
      merchantId = await owningMerchant(this.ctx, scope, input.merchantId);
    }
    if (title === undefined) throw new HubError('VALIDATION_FAILED', 'a title is required');
    const at = now();
    const row: Selectable<WorkOrdersTable> = {
      id: newId(),
      merchant_id: merchantId,
      device_id: deviceId,
      alarm_id: input.alarmId ?? null,
      title,
      description: input.description ?? null,
      priority: input.priority ?? 'normal',
      status: input.assignee ? 'assigned' : 'open',
      assignee: input.assignee ?? null,
      created_by: actor.userId,
      created_at: at,
      updated_at: at,
    };
    await inTx(db, async (tx) => {
      await tx.insertInto('work_orders').values(row).execute();
      if (row.assignee) {
        await tx
          .insertInto('work_order_events')
          .values(event(this.ctx, row, actor, 'assign', 'open', 'assigned', row.assignee))
          .execute();
      }
    });
    return toWorkOrder(row);
  }

  async list(scope: Scope, filter: WorkOrderFilter): Promise<Page<WorkOrder>> {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('work_orders');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
    if (filter.assignee) q = q.where('assignee', '=', filter.assignee);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toWorkOrder), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<WorkOrder & { events: WorkOrderEvent[] }> {
    const row = await this.row(scope, id);
    const events = await this.ctx.db
      .selectFrom('work_order_events')
      .selectAll()
      .where('work_order_id', '=', id)
      .orderBy('id')
      .execute();
    return { ...toWorkOrder(row), events: events.map(toEvent) };
  }

  /** Moves the order; `assigned` needs an assignee (given now or already set). */
  async transition(
    scope: Scope,
    actor: Actor,
    id: string,
    to: WorkOrderStatus,
    opts: { assignee?: string; comment?: string } = {},
  ): Promise<Change<WorkOrder>> {
    const before = await this.row(scope, id);
    const from = before.status as WorkOrderStatus;
    assertTransition(from, to);
    const assignee = to === 'open' ? null : (opts.assignee ?? before.assignee);
    if (to === 'assigned' && !assignee) {
      throw new HubError('VALIDATION_FAILED', 'an assignee is required to assign a work order');
    }
    const after = { ...before, status: to, assignee, updated_at: this.ctx.now() };
    await inTx(this.ctx.db, async (tx) => {
      const res = await tx
        .updateTable('work_orders')
        .set({ status: to, assignee, updated_at: after.updated_at })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1)
        throw new HubError('CONFLICT', 'the work order changed meanwhile');
      await tx
        .insertInto('work_order_events')
        .values(event(this.ctx, before, actor, 'transition', from, to, opts.comment ?? null))
        .execute();
    });
    return { before: toWorkOrder(before), after: toWorkOrder(after) };
  }

  /** Assigns someone: moves an open order to assigned, or reassigns one already under way. */
  async assign(scope: Scope, actor: Actor, id: string, assignee: string): Promise<Change<WorkOrder>> {
    const before = await this.row(scope, id);
    if (before.status === 'open') return this.transition(scope, actor, id, 'assigned', { assignee });
    if (before.status !== 'assigned' && before.status !== 'in_progress') {
      throw new HubError('INVALID_TRANSITION', `a ${before.status} work order cannot be reassigned`);
    }
    const after = { ...before, assignee, updated_at: this.ctx.now() };
    await inTx(this.ctx.db, async (tx) => {
      await tx
        .updateTable('work_orders')
        .set({ assignee, updated_at: after.updated_at })
        .where('id', '=', id)
        .execute();
      await tx
        .insertInto('work_order_events')
        .values(event(this.ctx, before, actor, 'assign', before.status, before.status, assignee))
        .execute();
    });
    return { before: toWorkOrder(before), after: toWorkOrder(after) };
  }

  async comment(scope: Scope, actor: Actor, id: string, body: string): Promise<WorkOrderEvent> {
    const wo = await this.row(scope, id);
    if (wo.status === 'closed')
      throw new HubError('INVALID_TRANSITION', 'a closed work order takes no comments');
    const row = event(this.ctx, wo, actor, 'comment', null, null, body);
    await inTx(this.ctx.db, async (tx) => {
      await tx.insertInto('work_order_events').values(row).execute();
      await tx.updateTable('work_orders').set({ updated_at: row.created_at }).where('id', '=', id).execute();
    });
    return toEvent(row);
  }

  private async row(scope: Scope, id: string): Promise<Selectable<WorkOrdersTable>> {
    let q = this.ctx.db.selectFrom('work_orders').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `work order ${id} not found`);
    return row;
  }
}

function event(
  ctx: OpsContext,
  wo: Selectable<WorkOrdersTable>,
  actor: Actor,
  kind: WorkOrderEvent['kind'],
  from: string | null,
  to: string | null,
  body: string | null,
): Selectable<WorkOrderEventsTable> {
  return {
    id: ctx.newId(),
    work_order_id: wo.id,
    merchant_id: wo.merchant_id,
    kind,
    from_status: from,
    to_status: to,
    body,
    created_by: actor.userId,
    created_at: ctx.now(),
  };
}

function toWorkOrder(r: Selectable<WorkOrdersTable>): WorkOrder {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    alarmId: r.alarm_id,
    title: r.title,
    description: r.description,
    priority: r.priority as WorkOrderPriority,
    status: r.status as WorkOrderStatus,
    assignee: r.assignee,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toEvent(r: Selectable<WorkOrderEventsTable>): WorkOrderEvent {
  return {
    id: r.id,
    kind: r.kind as WorkOrderEvent['kind'],
    fromStatus: r.from_status,
    toStatus: r.to_status,
    body: r.body,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}
