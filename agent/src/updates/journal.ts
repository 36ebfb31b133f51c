import type { ArtifactKind, Command, ErrorCode, UpdateProgress, UpdateStage } from '@crema/protocol';
import { type Db, inTransaction } from '../store/database';
import type { Outbox } from '../store/outbox/types';
import { statementCache } from '../store/statements';

/**
 * Where an install stands, finer than the reported stage: what to do next after a restart.
 * download → install (sales locked, writing the target) → switch (activate, reboot) → check (health) →
 * done; `rollback` when a check failed and the previous version is being started again.
 */
export type UpdateStep = 'download' | 'install' | 'switch' | 'check' | 'rollback' | 'done';

export type UpdateRow = {
  id: number;
  commandKey: string;
  command: Command;
  rolloutId: string;
  kind: ArtifactKind;
  version: string;
  fromVersion: string;
  manifest: string;
  step: UpdateStep;
  stage: UpdateStage;
  /** Brewer: the slot written and tried; `prevSlot` is the one that ran before. */
  slot: string | null;
  prevSlot: string | null;
  /** Brewer: the first chunk of this image reached the slot, so its bytes there are ours to resume from. */
  flashing: boolean;
  reason: ErrorCode | null;
  detail: string | null;
  startedAt: number;
  finishedAt: number | null;
};

type Raw = {
  id: number;
  command_key: string;
  command: string;
  rollout_id: string;
  kind: ArtifactKind;
  version: string;
  from_version: string;
  manifest: string;
  step: UpdateStep;
  stage: UpdateStage;
  slot: string | null;
  prev_slot: string | null;
  flashing: number;
  reason: ErrorCode | null;
  detail: string | null;
  started_at: number;
  finished_at: number | null;
};

export type UpdatePatch = Partial<
  Pick<UpdateRow, 'step' | 'stage' | 'slot' | 'prevSlot' | 'flashing' | 'reason' | 'detail'>
>;

export type NewUpdate = Pick<
  UpdateRow,
  'commandKey' | 'command' | 'rolloutId' | 'kind' | 'version' | 'fromVersion' | 'manifest'
>;

const COLUMNS: Record<keyof UpdatePatch, string> = {
  step: 'step',
  stage: 'stage',
  slot: 'slot',
  prevSlot: 'prev_slot',
  flashing: 'flashing',
  reason: 'reason',
  detail: 'detail',
};

/**
 * The update journal (agent migration 3): one row per update command, at most one unfinished. Every step
 * change commits together with the `update_progress` record that reports it, so what the hub hears is what
 * the journal says; the final record commits with `finished_at`, hence is queued exactly once.
 */
export class UpdateJournal {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
    private readonly now: () => number,
  ) {
    this.sql = statementCache(db);
  }

  active(): UpdateRow | undefined {
    return this.read(this.sql('SELECT * FROM updates WHERE finished_at IS NULL').get() as Raw | undefined);
  }

  byKey(commandKey: string): UpdateRow | undefined {
    return this.read(
      this.sql('SELECT * FROM updates WHERE command_key = ?').get(commandKey) as Raw | undefined,
    );
  }

  get(id: number): UpdateRow | undefined {
    return this.read(this.sql('SELECT * FROM updates WHERE id = ?').get(id) as Raw | undefined);
  }

  /** The last finished install of this rollout and version, if any (a re-sent command joins its outcome). */
  finished(rolloutId: string, kind: ArtifactKind, version: string): UpdateRow | undefined {
    return this.read(
      this.sql(
        `SELECT * FROM updates WHERE rollout_id = ? AND kind = ? AND version = ? AND finished_at IS NOT NULL
         ORDER BY id DESC LIMIT 1`,
      ).get(rolloutId, kind, version) as Raw | undefined,
    );
  }

  /** The anti-rollback floor recorded when the installed version of `kind` was installed. */
  floor(kind: ArtifactKind): string | undefined {
    const row = this.sql('SELECT floor FROM update_floors WHERE kind = ?').get(kind) as
      | { floor: string }
      | undefined;
    return row?.floor;
  }

  /** Records a new install and reports its first stage; `also` joins the transaction. */
  begin(update: NewUpdate, stage: UpdateStage, also?: () => void): UpdateRow {
    const now = this.now();
    const id = inTransaction(this.db, () => {
      const info = this.sql(
        `INSERT INTO updates (command_key, command, rollout_id, kind, version, from_version, manifest, step, stage,
           started_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'download', ?, ?, ?)`,
      ).run(
        update.commandKey,
        JSON.stringify(update.command),
        update.rolloutId,
        update.kind,
        update.version,
        update.fromVersion,
        update.manifest,
        stage,
        now,
        now,
      );
      const id = Number(info.lastInsertRowid);
      this.report(this.must(id), {});
      also?.();
      return id;
    });
    return this.must(id);
  }

  /**
   * Moves an install on. When the reported stage changes (or `pct` is given) an `update_progress` record
   * commits with it; `also` runs inside the same transaction (e.g. locking sales).
   */
  advance(id: number, patch: UpdatePatch, opts: { pct?: number; also?: () => void } = {}): UpdateRow {
    inTransaction(this.db, () => {
      const before = this.must(id);
      this.write(id, patch);
      const after = this.must(id);
      if (after.stage !== before.stage || opts.pct !== undefined)
        this.report(after, opts.pct === undefined ? {} : { pct: opts.pct });
      opts.also?.();
    });
    return this.must(id);
  }

  /**
   * Ends an install: the final stage, its record, the floor on success, and `also` (unlocking sales), all in
   * one transaction. A row already finished is returned as it is, so the final report is queued once.
   */
  finish(
    id: number,
    final: { stage: 'succeeded' | 'rolled_back' | 'failed'; reason?: ErrorCode; detail?: string },
    opts: { floor?: string; also?: () => void } = {},
  ): UpdateRow {
    inTransaction(this.db, () => {
      const row = this.must(id);
      if (row.finishedAt !== null) return;
      this.write(id, {
        step: 'done',
        stage: final.stage,
        reason: final.reason ?? row.reason ?? null,
        detail: final.detail ?? row.detail ?? null,
      });
      this.sql('UPDATE updates SET finished_at = ? WHERE id = ?').run(this.now(), id);
      const done = this.must(id);
      if (final.stage === 'succeeded') {
        // A successful install reports no reason, whatever an earlier attempt noted.
        this.report({ ...done, reason: null, detail: null }, {});
        if (opts.floor)
          this.sql(
            `INSERT INTO update_floors (kind, floor, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (kind) DO UPDATE SET floor = excluded.floor, updated_at = excluded.updated_at`,
          ).run(done.kind, opts.floor, this.now());
      } else this.report(done, {});
      opts.also?.();
    });
    return this.must(id);
  }

  private write(id: number, patch: UpdatePatch): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch) as [keyof UpdatePatch, unknown][]) {
      if (value === undefined) continue;
      sets.push(`${COLUMNS[key]} = ?`);
      values.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
    sets.push('updated_at = ?');
    values.push(this.now());
    this.db.prepare(`UPDATE updates SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  private report(row: UpdateRow, extra: { pct?: number }): void {
    const body: UpdateProgress = {
      rolloutId: row.rolloutId,
      kind: row.kind,
      version: row.version,
      fromVersion: row.fromVersion,
      stage: row.stage,
      at: this.now(),
    };
    if (extra.pct !== undefined) body.pct = Math.max(0, Math.min(100, Math.round(extra.pct)));
    if (row.stage !== 'succeeded' && row.reason) body.reason = row.reason;
    if (row.stage !== 'succeeded' && row.detail) body.detail = row.detail.slice(0, 200);
    this.outbox.append('update_progress', body);
  }

  private must(id: number): UpdateRow {
    const row = this.get(id);
    if (!row) throw new Error(`update ${id} vanished from the journal`);
    return row;
  }

  private read(raw: Raw | undefined): UpdateRow | undefined {
    if (!raw) return undefined;
    return {
      id: raw.id,
      commandKey: raw.command_key,
      command: JSON.parse(raw.command) as Command,
      rolloutId: raw.rollout_id,
      kind: raw.kind,
      version: raw.version,
      fromVersion: raw.from_version,
      manifest: raw.manifest,
      step: raw.step,
      stage: raw.stage,
      slot: raw.slot,
      prevSlot: raw.prev_slot,
      flashing: raw.flashing === 1,
      reason: raw.reason,
      detail: raw.detail,
      startedAt: raw.started_at,
      finishedAt: raw.finished_at,
    };
  }
}
