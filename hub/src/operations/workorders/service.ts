import type { Selectable } from 'kysely';
import type { WorkOrderEventsTable, WorkOrdersTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { deviceInScope, owningMerchant } from '../shared/lookup';
import { inTx } from '../shared/tx';
import { type AlarmFollowUp, followUpAlarm } from './alarm-follow-up';
import { type AssigneeRef, resolveAssignee } from './assignees';
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
  /** The assigned user; `assignee` is that user's email and `assigneeName` their display name. */
  assigneeId: string | null;
  assignee: string | null;
  assigneeName: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export type WorkOrderEventKind = 'comment' | 'transition' | 'assign' | 'alarm';

export interface WorkOrderEvent {
  id: string;
  kind: WorkOrderEventKind;
  fromStatus: string | null;
  toStatus: string | null;
  body: string | null;
  /** Machine-readable reason: why an alarm stayed, why an assignee was dropped. */
  code: string | null;
  assigneeId: string | null;
  createdBy: string;
  createdAt: number;
}

export interface CreateWorkOrder extends AssigneeRef {
  merchantId?: string;
  deviceId?: string;
  alarmId?: string;
  title?: string;
  description?: string;
  priority?: WorkOrderPriority;
}

export interface WorkOrderFilter extends PageQuery {
  status?: WorkOrderStatus;
  deviceId?: string;
  assigneeId?: string;
}

/** A change with the state before and after, for the audit log. */
export interface Change<T> {
  before: T;
  after: T;
}

/** A transition; resolving or closing an order with an alarm also says what became of the alarm. */
export interface TransitionResult extends Change<WorkOrder> {
  alarm?: AlarmFollowUp;
}

type Row = Selectable<WorkOrdersTable> & { assignee_email: string | null; assignee_name: string | null };

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
    const named = input.assigneeId !== undefined || input.assignee !== undefined;
    const assignee = named ? await resolveAssignee(this.ctx, merchantId, input) : null;
    const at = now();
    const row: Selectable<WorkOrdersTable> = {
      id: newId(),
      merchant_id: merchantId,
      device_id: deviceId,
      alarm_id: input.alarmId ?? null,
      title,
      description: input.description ?? null,
      priority: input.priority ?? 'normal',
      status: assignee ? 'assigned' : 'open',
      assignee_id: assignee?.id ?? null,
      created_by: actor.userId,
      created_at: at,
      updated_at: at,
    };
    await inTx(db, async (tx) => {
      await tx.insertInto('work_orders').values(row).execute();
      if (assignee) {
        await tx
          .insertInto('work_order_events')
          .values(
            event(this.ctx, row, actor, 'assign', {
              from: 'open',
              to: 'assigned',
              body: assignee.email,
              assigneeId: assignee.id,
            }),
          )
          .execute();
      }
    });
    return toWorkOrder({
      ...row,
      assignee_email: assignee?.email ?? null,
      assignee_name: assignee?.name ?? null,
    });
  }

  async list(scope: Scope, filter: WorkOrderFilter): Promise<Page<WorkOrder>> {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('work_orders');
    if (scope.merchantId !== undefined) q = q.where('work_orders.merchant_id', '=', scope.merchantId);
    if (filter.status) q = q.where('work_orders.status', '=', filter.status);
    if (filter.deviceId) q = q.where('work_orders.device_id', '=', filter.deviceId);
    if (filter.assigneeId) q = q.where('work_orders.assignee_id', '=', filter.assigneeId);
    const [rows, count] = await Promise.all([
      q
        .leftJoin('users', 'users.id', 'work_orders.assignee_id')
        .selectAll('work_orders')
        .select(['users.email as assignee_email', 'users.name as assignee_name'])
        .orderBy('work_orders.created_at', 'desc')
        .orderBy('work_orders.id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
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

  /**
   * Moves the order; `assigned` needs an assignee (named now or already set). Resolving or closing an order
   * made from an alarm clears that alarm when its condition is gone, and otherwise says why it stays (in the
   * result and as an `alarm` event of the history).
   */
  async transition(
    scope: Scope,
    actor: Actor,
    id: string,
    to: WorkOrderStatus,
    opts: AssigneeRef & { comment?: string } = {},
  ): Promise<TransitionResult> {
    const before = await this.row(scope, id);
    const from = before.status as WorkOrderStatus;
    assertTransition(from, to);
    const named = opts.assigneeId !== undefined || opts.assignee !== undefined;
    const user = named ? await resolveAssignee(this.ctx, before.merchant_id, opts) : null;
    let after: Row = { ...before, status: to, updated_at: this.ctx.now() };
    if (to === 'open') after = { ...after, assignee_id: null, assignee_email: null, assignee_name: null };
    else if (user)
      after = { ...after, assignee_id: user.id, assignee_email: user.email, assignee_name: user.name };
    if (to === 'assigned' && !after.assignee_id) {
      throw new HubError('VALIDATION_FAILED', 'an assignee is required to assign a work order');
    }
    let alarm: AlarmFollowUp | undefined;
    await inTx(this.ctx.db, async (tx) => {
      const res = await tx
        .updateTable('work_orders')
        .set({ status: to, assignee_id: after.assignee_id, updated_at: after.updated_at })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1)
        throw new HubError('CONFLICT', 'the work order changed meanwhile');
      const txCtx = { ...this.ctx, db: tx };
      await tx
        .insertInto('work_order_events')
        .values(
          event(this.ctx, before, actor, 'transition', {
            from,
            to,
            body: opts.comment ?? null,
            assigneeId: after.assignee_id !== before.assignee_id ? after.assignee_id : null,
          }),
        )
        .execute();
      if ((to === 'resolved' || to === 'closed') && before.alarm_id !== null) {
        alarm = await followUpAlarm(txCtx, actor, before.alarm_id);
        if (alarm.result !== 'already_cleared') {
          await tx
            .insertInto('work_order_events')
            .values(
              event(this.ctx, before, actor, 'alarm', {
                body: alarm.message,
                code: alarm.result === 'cleared' ? 'ALARM_CLEARED' : alarm.reason,
              }),
            )
            .execute();
        }
      }
    });
    return { before: toWorkOrder(before), after: toWorkOrder(after), ...(alarm ? { alarm } : {}) };
  }

  /** Assigns someone: moves an open order to assigned, or reassigns one already under way. */
  async assign(scope: Scope, actor: Actor, id: string, ref: AssigneeRef): Promise<Change<WorkOrder>> {
    const before = await this.row(scope, id);
    if (before.status === 'open') return this.transition(scope, actor, id, 'assigned', ref);
    if (before.status !== 'assigned' && before.status !== 'in_progress') {
      throw new HubError('INVALID_TRANSITION', `a ${before.status} work order cannot be reassigned`);
    }
    const user = await resolveAssignee(this.ctx, before.merchant_id, ref);
    const after: Row = {
      ...before,
      assignee_id: user.id,
      assignee_email: user.email,
      assignee_name: user.name,
      updated_at: this.ctx.now(),
    };
    await inTx(this.ctx.db, async (tx) => {
      await tx
        .updateTable('work_orders')
        .set({ assignee_id: user.id, updated_at: after.updated_at })
        .where('id', '=', id)
        .execute();
      await tx
        .insertInto('work_order_events')
        .values(
          event(this.ctx, before, actor, 'assign', {
            from: before.status,
            to: before.status,
            body: user.email,
            assigneeId: user.id,
          }),
        )
        .execute();
    });
    return { before: toWorkOrder(before), after: toWorkOrder(after) };
  }

  async comment(scope: Scope, actor: Actor, id: string, body: string): Promise<WorkOrderEvent> {
    const wo = await this.row(scope, id);
    if (wo.status === 'closed')
      throw new HubError('INVALID_TRANSITION', 'a closed work order takes no comments');
    const row = event(this.ctx, wo, actor, 'comment', { body });
    await inTx(this.ctx.db, async (tx) => {
      await tx.insertInto('work_order_events').values(row).execute();
      await tx.updateTable('work_orders').set({ updated_at: row.created_at }).where('id', '=', id).execute();
    });
    return toEvent(row);
  }

  /**
   * Takes a user's work orders off them when they can no longer handle them: deleted (every order, the
   * closed ones too, since the user row goes) or given a role without `device:write` (orders not yet
   * closed). An `assigned` order goes back to `open`; the others keep their status. Each gets an `assign`
   * event with `code` and the former assignee's email. Runs in the caller's transaction.
   */
  async releaseAssignments(
    actor: Actor,
    userId: string,
    reason: 'ASSIGNEE_DELETED' | 'ASSIGNEE_ROLE_CHANGED',
  ): Promise<Change<WorkOrder>[]> {
    let q = this.ctx.db
      .selectFrom('work_orders')
      .leftJoin('users', 'users.id', 'work_orders.assignee_id')
      .selectAll('work_orders')
      .select(['users.email as assignee_email', 'users.name as assignee_name'])
      .where('work_orders.assignee_id', '=', userId);
    if (reason === 'ASSIGNEE_ROLE_CHANGED') q = q.where('work_orders.status', '!=', 'closed');
    const rows = await q.execute();
    const changes: Change<WorkOrder>[] = [];
    for (const before of rows) {
      const status = before.status === 'assigned' ? 'open' : before.status;
      const after: Row = {
        ...before,
        status,
        assignee_id: null,
        assignee_email: null,
        assignee_name: null,
        updated_at: this.ctx.now(),
      };
      await this.ctx.db
        .updateTable('work_orders')
        .set({ status, assignee_id: null, updated_at: after.updated_at })
        .where('id', '=', before.id)
        .execute();
      await this.ctx.db
        .insertInto('work_order_events')
        .values(
          event(this.ctx, before, actor, 'assign', {
            from: before.status,
            to: status,
            body: before.assignee_email,
            code: reason,
          }),
        )
        .execute();
      changes.push({ before: toWorkOrder(before), after: toWorkOrder(after) });
    }
    return changes;
  }

  private async row(scope: Scope, id: string): Promise<Row> {
    let q = this.ctx.db
      .selectFrom('work_orders')
      .leftJoin('users', 'users.id', 'work_orders.assignee_id')
      .selectAll('work_orders')
      .select(['users.email as assignee_email', 'users.name as assignee_name'])
      .where('work_orders.id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('work_orders.merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `work order ${id} not found`);
    return row;
  }
}

function event(
  ctx: OpsContext,
  wo: Selectable<WorkOrdersTable>,
  actor: Actor,
  kind: WorkOrderEventKind,
  e: {
    from?: string | null;
    to?: string | null;
    body?: string | null;
    code?: string | null;
    assigneeId?: string | null;
  },
): Selectable<WorkOrderEventsTable> {
  return {
    id: ctx.newId(),
    work_order_id: wo.id,
    merchant_id: wo.merchant_id,
    kind,
    from_status: e.from ?? null,
    to_status: e.to ?? null,
    body: e.body ?? null,
    code: e.code ?? null,
    assignee_id: e.assigneeId ?? null,
    created_by: actor.userId,
    created_at: ctx.now(),
  };
}

function toWorkOrder(r: Row): WorkOrder {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    alarmId: r.alarm_id,
    title: r.title,
    description: r.description,
    priority: r.priority as WorkOrderPriority,
    status: r.status as WorkOrderStatus,
    assigneeId: r.assignee_id,
    assignee: r.assignee_id === null ? null : r.assignee_email,
    assigneeName: r.assignee_id === null ? null : r.assignee_name,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toEvent(r: Selectable<WorkOrderEventsTable>): WorkOrderEvent {
  return {
    id: r.id,
    kind: r.kind as WorkOrderEventKind,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    body: r.body,
    code: r.code,
    assigneeId: r.assignee_id,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
}
