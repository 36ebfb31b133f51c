import { type Severity, SeveritySchema } from '@crema/protocol';
import type { Kysely, Selectable } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/database';
import type { OpsAlarmsTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { inTx } from '../shared/tx';

export const AlarmStatusSchema = z.enum(['raised', 'acknowledged', 'cleared']);
export type AlarmStatus = z.infer<typeof AlarmStatusSchema>;

/** Where an alarm came from: the machine's own report, the hub's stock check, or its cleaning compliance. */
export type AlarmSource = 'device' | 'materials' | 'maintenance';

export interface AlarmView {
  id: string;
  merchantId: string;
  deviceId: string;
  code: string;
  severity: Severity;
  status: AlarmStatus;
  source: AlarmSource;
  message: string | null;
  value: number | null;
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  clearedAt: number | null;
  clearedBy: string | null;
}

export const AlarmFilterSchema = z.object({
  /** `open` is raised or acknowledged. */
  status: z.enum(['open', 'raised', 'acknowledged', 'cleared']).optional(),
  severity: SeveritySchema.optional(),
  deviceId: z.string().max(64).optional(),
  code: z.string().max(64).optional(),
});
export type AlarmFilter = z.infer<typeof AlarmFilterSchema>;

export interface RaiseAlarm {
  merchantId: string;
  deviceId: string;
  code: string;
  severity: Severity;
  source: AlarmSource;
  message?: string | null;
  value?: number | null;
  at: number;
}

/** The operator's view of alarms: one open alarm per device and code, acknowledged and cleared by people. */
export class AlarmService {
  constructor(private readonly ctx: OpsContext) {}

  async list(scope: Scope, filter: AlarmFilter & PageQuery): Promise<Page<AlarmView>> {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('ops_alarms');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.status === 'open') q = q.where('status', '!=', 'cleared');
    else if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.severity) q = q.where('severity', '=', filter.severity);
    if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
    if (filter.code) q = q.where('code', '=', filter.code);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toAlarmView), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<AlarmView> {
    return toAlarmView(await this.row(scope, id));
  }

  async acknowledge(
    scope: Scope,
    actor: Actor,
    id: string,
  ): Promise<{ before: AlarmView; after: AlarmView }> {
    return this.move(scope, id, ['raised'], 'acknowledged', {
      acknowledged_at: this.ctx.now(),
      acknowledged_by: actor.userId,
    });
  }

  /** Clears by hand; a device alarm the machine still reports returns only when the machine raises it anew. */
  async clear(scope: Scope, actor: Actor, id: string): Promise<{ before: AlarmView; after: AlarmView }> {
    return this.move(scope, id, ['raised', 'acknowledged'], 'cleared', {
      cleared_at: this.ctx.now(),
      cleared_by: actor.userId,
    });
  }

  /** Opens an alarm, or refreshes the open one of the same device and code. Returns it and whether it is new. */
  async raise(input: RaiseAlarm): Promise<{ alarm: AlarmView; created: boolean }> {
    return inTx(this.ctx.db, async (tx) => {
      const open = await openAlarm(tx, input.deviceId, input.code);
      if (open) {
        const patch = {
          severity: input.severity,
          message: input.message ?? null,
          value: input.value ?? null,
        };
        await tx.updateTable('ops_alarms').set(patch).where('id', '=', open.id).execute();
        return { alarm: toAlarmView({ ...open, ...patch }), created: false };
      }
      const row: Selectable<OpsAlarmsTable> = {
        id: this.ctx.newId(),
        merchant_id: input.merchantId,
        device_id: input.deviceId,
        code: input.code,
        severity: input.severity,
        status: 'raised',
        source: input.source,
        message: input.message ?? null,
        value: input.value ?? null,
        raised_at: input.at,
        acknowledged_at: null,
        acknowledged_by: null,
        cleared_at: null,
        cleared_by: null,
      };
      await tx.insertInto('ops_alarms').values(row).execute();
      return { alarm: toAlarmView(row), created: true };
    });
  }

  /** Clears the open alarm of a device and code, if any, on behalf of the system (`by`). */
  async clearOpen(deviceId: string, code: string, by: string): Promise<AlarmView | null> {
    const open = await openAlarm(this.ctx.db, deviceId, code);
    if (!open) return null;
    const patch = { status: 'cleared', cleared_at: this.ctx.now(), cleared_by: by };
    await this.ctx.db.updateTable('ops_alarms').set(patch).where('id', '=', open.id).execute();
    return toAlarmView({ ...open, ...patch });
  }

  private async move(
    scope: Scope,
    id: string,
    from: AlarmStatus[],
    to: AlarmStatus,
    patch: Partial<Selectable<OpsAlarmsTable>>,
  ): Promise<{ before: AlarmView; after: AlarmView }> {
    const before = await this.row(scope, id);
    if (!from.includes(before.status as AlarmStatus)) {
      throw new HubError('INVALID_TRANSITION', `a ${before.status} alarm cannot become ${to}`);
    }
    const res = await this.ctx.db
      .updateTable('ops_alarms')
      .set({ ...patch, status: to })
      .where('id', '=', id)
      .where('status', '=', before.status)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new HubError('CONFLICT', 'the alarm changed meanwhile');
    return { before: toAlarmView(before), after: toAlarmView({ ...before, ...patch, status: to }) };
  }

  private async row(scope: Scope, id: string): Promise<Selectable<OpsAlarmsTable>> {
    let q = this.ctx.db.selectFrom('ops_alarms').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `alarm ${id} not found`);
    return row;
  }
}

function openAlarm(db: Kysely<Database>, deviceId: string, code: string) {
  return db
    .selectFrom('ops_alarms')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('code', '=', code)
    .where('status', '!=', 'cleared')
    .executeTakeFirst();
}

export function toAlarmView(r: Selectable<OpsAlarmsTable>): AlarmView {
  return {
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    code: r.code,
    severity: r.severity as Severity,
    status: r.status as AlarmStatus,
    source: r.source as AlarmSource,
    message: r.message,
    value: r.value,
    raisedAt: r.raised_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    clearedAt: r.cleared_at,
    clearedBy: r.cleared_by,
  };
}
