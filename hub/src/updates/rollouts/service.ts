import type { Insertable, Selectable } from 'kysely';
import type { RolloutDevicesTable, RolloutsTable } from '../../db/tables/updates';
import { HubError } from '../../errors';
import type { Actor, OpsContext, Page, PageQuery, Scope } from '../../operations/context';
import { pageBounds } from '../../operations/context';
import { locationInScope, merchantInScope } from '../../operations/shared/lookup';
import { inTx } from '../../operations/shared/tx';
import { assignPhases, type Candidate, skipReason } from './plan';
import {
  type CreateRolloutParsed,
  CreateRolloutSchema,
  type RolloutDeviceStatus,
  type RolloutDeviceView,
  type RolloutStatus,
  type RolloutView,
  UNFINISHED,
} from './schema';
import { rolloutView, toDeviceView } from './views';
import { withdrawQueued } from './withdraw';

const ACTIVE_DEVICE: readonly RolloutDeviceStatus[] = ['pending', 'sent', 'installing'];

export interface RolloutPlan {
  row: Selectable<RolloutsTable>;
  deviceRows: Insertable<RolloutDevicesTable>[];
}

export interface DeviceFilter extends PageQuery {
  status?: RolloutDeviceStatus;
  phase?: number;
}

/** Rollout campaigns as operators see them: create, read, pause, resume, cancel. The engine advances them. */
export class RolloutService {
  constructor(private readonly ctx: OpsContext) {}

  /** Plans and starts a campaign (both steps on this context). */
  async create(scope: Scope, actor: Actor, input: unknown) {
    return this.insert(scope, await this.plan(scope, actor, input));
  }

  /**
   * Everything a campaign needs, read and checked: the artifact, the machines and their phases or skip
   * reasons. Reads only, so a route runs it before its write transaction (on SQLite a transaction that reads
   * first may find the ingest thread's commit in its way when it then writes).
   */
  async plan(scope: Scope, actor: Actor, input: unknown): Promise<RolloutPlan> {
    const parsed = CreateRolloutSchema.safeParse(input);
    if (!parsed.success)
      throw new HubError('VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'invalid');
    const spec: CreateRolloutParsed = parsed.data;
    const artifact = await this.ctx.db
      .selectFrom('artifacts')
      .selectAll()
      .where('sha256', '=', spec.artifact)
      .executeTakeFirst();
    if (!artifact) throw new HubError('NOT_FOUND', `artifact ${spec.artifact} not found`);
    const candidates = await this.resolveTarget(scope, spec, artifact.kind);
    const facts = {
      version: artifact.version,
      minVersion: artifact.min_version,
      models: JSON.parse(artifact.models) as string[],
    };
    const eligible: Candidate[] = [];
    const skipped: { c: Candidate; reason: string; detail: string }[] = [];
    for (const c of candidates) {
      const skip = skipReason(c, facts);
      if (skip) skipped.push({ c, ...skip });
      else eligible.push(c);
    }
    if (eligible.length === 0) {
      const why = skipped.length > 0 ? `${skipped.length} machines skipped` : 'the target has no machines';
      throw new HubError('ROLLOUT_NO_TARGET', why, { details: { skipped: skipped.length } });
    }
    const phaseOf = assignPhases(eligible.length, spec.phases);
    const now = this.ctx.now();
    const merchants = new Set(candidates.map((c) => c.merchantId));
    const row: Selectable<RolloutsTable> = {
      id: this.ctx.newId(),
      merchant_id: scope.merchantId ?? (merchants.size === 1 ? (candidates[0]?.merchantId ?? null) : null),
      name: spec.name,
      artifact_sha256: artifact.sha256,
      kind: artifact.kind,
      version: artifact.version,
      target: JSON.stringify(spec.target),
      phases: JSON.stringify(spec.phases),
      failure_threshold: JSON.stringify(spec.failureThreshold),
      maintenance_window: spec.maintenanceWindow ? JSON.stringify(spec.maintenanceWindow) : null,
      signals: JSON.stringify(spec.signals),
      status: 'running',
      phase_index: 0,
      phase_started_at: now,
      soak_started_at: null,
      resumed_at: null,
      halt_code: null,
      halt_reason: null,
      created_by: actor.userId,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    const base = { rollout_id: row.id, updated_at: now, stage: null, pct: null, command_id: null };
    const deviceRows = [
      ...eligible.map((c, i) => ({
        ...base,
        device_id: c.id,
        merchant_id: c.merchantId,
        phase: phaseOf[i] ?? 0,
        status: 'pending',
        reason: null,
        detail: null,
        from_version: c.version,
      })),
      ...skipped.map((s) => ({
        ...base,
        device_id: s.c.id,
        merchant_id: s.c.merchantId,
        phase: null,
        status: 'skipped',
        reason: s.reason,
        detail: s.detail,
        from_version: s.c.version,
        finished_at: now,
      })),
    ];
    return { row, deviceRows };
  }

  /** Stores a planned campaign; the engine sends its first phase. */
  async insert(scope: Scope, { row, deviceRows }: RolloutPlan) {
    await inTx(this.ctx.db, async (tx) => {
      await tx.insertInto('rollouts').values(row).execute();
      for (let i = 0; i < deviceRows.length; i += 300) {
        await tx
          .insertInto('rollout_devices')
          .values(deviceRows.slice(i, i + 300))
          .execute();
      }
    });
    return this.get(scope, row.id);
  }

  async list(scope: Scope, filter: PageQuery & { status?: RolloutStatus }) {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('rollouts');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = await Promise.all(rows.map((r) => rolloutView(this.ctx, r)));
    return { items, total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string) {
    return rolloutView(this.ctx, await this.row(scope, id));
  }

  async devices(scope: Scope, id: string, filter: DeviceFilter): Promise<Page<RolloutDeviceView>> {
    await this.row(scope, id);
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('rollout_devices').where('rollout_id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.phase !== undefined) q = q.where('phase', '=', filter.phase);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('phase').orderBy('device_id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toDeviceView), total: Number(count.n), limit, offset };
  }

  /** Stops sending commands and withdraws queued ones; installs already under way finish and are recorded. */
  pause(scope: Scope, id: string, before?: RolloutView) {
    return this.transition(scope, id, ['running'], 'paused', before);
  }

  /** Resumes a paused campaign, or a halted one once an operator judged the halt (the audit says who). */
  resume(scope: Scope, id: string, before?: RolloutView) {
    return this.transition(scope, id, ['paused', 'halted'], 'running', before);
  }

  /** Ends the campaign: machines not sent their command yet are cancelled; queued commands are withdrawn. */
  cancel(scope: Scope, id: string, before?: RolloutView) {
    return this.transition(scope, id, UNFINISHED, 'cancelled', before);
  }

  /**
   * `before`: the campaign as read before the caller's transaction (see `plan`); the change itself is guarded
   * by that status, so a campaign that moved meanwhile is INVALID_TRANSITION, never changed twice.
   */
  private async transition(
    scope: Scope,
    id: string,
    from: readonly RolloutStatus[],
    to: RolloutStatus,
    known?: RolloutView,
  ) {
    const before = known ?? (await this.get(scope, id));
    if (!from.includes(before.status))
      throw new HubError('INVALID_TRANSITION', `a ${before.status} campaign cannot become ${to}`);
    const now = this.ctx.now();
    await inTx(this.ctx.db, async (tx) => {
      const res = await tx
        .updateTable('rollouts')
        .set({
          status: to,
          updated_at: now,
          ...(to === 'running' ? { halt_code: null, halt_reason: null } : {}),
          ...(to === 'cancelled' ? { finished_at: now } : {}),
        })
        .where('id', '=', id)
        .where('status', '=', before.status)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1)
        throw new HubError('INVALID_TRANSITION', 'the campaign moved on meanwhile');
      if (to === 'running') {
        if (before.status === 'halted')
          await tx.updateTable('rollouts').set({ resumed_at: now }).where('id', '=', id).execute();
        return;
      }
      await withdrawQueued(tx, id, to === 'cancelled' ? 'cancelled' : 'pending', now);
      if (to !== 'cancelled') return;
      await tx
        .updateTable('rollout_devices')
        .set({ status: 'cancelled', finished_at: now, updated_at: now })
        .where('rollout_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    });
    return { before, after: await this.get(scope, id) };
  }

  private async row(scope: Scope, id: string): Promise<Selectable<RolloutsTable>> {
    let q = this.ctx.db.selectFrom('rollouts').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `rollout ${id} not found`);
    return row;
  }

  /** The machines the target names, in scope; an id, location or merchant outside it is NOT_FOUND. */
  private async resolveTarget(scope: Scope, spec: CreateRolloutParsed, kind: string): Promise<Candidate[]> {
    const t = spec.target;
    let q = this.ctx.db
      .selectFrom('devices as d')
      .leftJoin('device_state as s', 's.device_id', 'd.id')
      .select([
        'd.id',
        'd.merchant_id',
        'd.model',
        's.model as reported_model',
        's.firmware_version',
        's.agent_version',
      ])
      .where('d.revoked_at', 'is', null);
    if (scope.merchantId !== undefined) q = q.where('d.merchant_id', '=', scope.merchantId);
    if (t.merchantId !== undefined)
      q = q.where('d.merchant_id', '=', await merchantInScope(this.ctx, scope, t.merchantId));
    if (t.locationIds) {
      for (const l of t.locationIds) await locationInScope(this.ctx, scope, l);
      q = q.where('d.location_id', 'in', t.locationIds);
    }
    if (t.deviceIds) {
      const ids = [...new Set(t.deviceIds)];
      let known = this.ctx.db.selectFrom('devices').select('id').where('id', 'in', ids);
      if (scope.merchantId !== undefined) known = known.where('merchant_id', '=', scope.merchantId);
      const found = new Set((await known.execute()).map((r) => r.id));
      const missing = ids.find((id) => !found.has(id));
      if (missing) throw new HubError('NOT_FOUND', `device ${missing} not found`);
      q = q.where('d.id', 'in', ids);
    }
    const rows = await q.orderBy('d.id').execute();
    const busy = new Set(
      (
        await this.ctx.db
          .selectFrom('rollout_devices as rd')
          .innerJoin('rollouts as r', 'r.id', 'rd.rollout_id')
          .select('rd.device_id')
          .where('r.kind', '=', kind)
          .where('r.status', 'in', [...UNFINISHED])
          .where('rd.status', 'in', [...ACTIVE_DEVICE])
          .execute()
      ).map((r) => r.device_id),
    );
    const out: Candidate[] = [];
    for (const r of rows) {
      const model = r.reported_model ?? r.model;
      const version = (kind === 'agent' ? r.agent_version : r.firmware_version) ?? null;
      if (t.models && !t.models.includes(model)) continue;
      if (t.currentVersions && (version === null || !t.currentVersions.includes(version))) continue;
      out.push({ id: r.id, merchantId: r.merchant_id, model, version, busy: busy.has(r.id) });
    }
    return out;
  }
}
