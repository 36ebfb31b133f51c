import type { CommandProgress, CommandResult, CommandStatus } from '@crema/protocol';
import type { OpsContext } from '../operations/context';
import { inTx } from '../operations/shared/tx';
import { canMove } from './lifecycle';

/** Ids per UPDATE (well under SQLite's and PostgreSQL's bound-parameter limits). */
const MARK_CHUNK = 500;

/**
 * The device side of commands, for both transports (MQTT and HTTP polling): that a command reached the
 * device, and what the machine reported back. Reports that would move a command backwards or out of a
 * terminal state are ignored, so duplicates and out-of-order reports are harmless.
 */
export class CommandDelivery {
  constructor(private readonly ctx: OpsContext) {}

  /**
   * Records that these commands were handed over (the broker took the QoS 1 publish, or an HTTP poll
   * returned them); returns the ids that moved. Only `queued` rows move: a device report may already have
   * moved a command further, and it must not be undone.
   */
  async markDelivered(commandIds: readonly string[]): Promise<string[]> {
    const moved: string[] = [];
    const now = this.ctx.now();
    for (let i = 0; i < commandIds.length; i += MARK_CHUNK) {
      const rows = await this.ctx.db
        .updateTable('commands')
        .set({ status: 'delivered', delivered_at: now, updated_at: now })
        .where('id', 'in', commandIds.slice(i, i + MARK_CHUNK))
        .where('status', '=', 'queued')
        .returning('id')
        .execute();
      for (const r of rows) moved.push(r.id);
    }
    return moved;
  }

  async applyProgress(deviceId: string, progress: CommandProgress): Promise<boolean> {
    return this.move(deviceId, progress.commandId, progress.status, progress.at, {
      result_message: progress.message ?? null,
    });
  }

  async applyResult(deviceId: string, result: CommandResult): Promise<boolean> {
    return this.move(deviceId, result.commandId, result.status, result.at, {
      finished_at: result.at,
      result_code: result.code ?? null,
      result_message: result.message ?? null,
      output: result.output === undefined ? null : JSON.stringify(result.output),
    });
  }

  private async move(
    deviceId: string,
    commandId: string,
    to: CommandStatus,
    /** When the device reported it: the latest the command can have reached the device. */
    reportedAt: number,
    fields: {
      finished_at?: number;
      result_code?: string | null;
      result_message?: string | null;
      output?: string | null;
    },
  ): Promise<boolean> {
    return inTx(this.ctx.db, async (tx) => {
      // A concurrent move (e.g. the dispatcher marking it delivered) can change the status between the read
      // and the guarded update; read again and re-check rather than drop the report.
      for (let attempt = 0; attempt < 3; attempt++) {
        const row = await tx
          .selectFrom('commands')
          .select(['status', 'delivered_at'])
          .where('id', '=', commandId)
          .where('device_id', '=', deviceId)
          .executeTakeFirst();
        if (!row) return false;
        const from = row.status as CommandStatus;
        if (!canMove(from, to)) return false;
        // Any report comes from a device that has the command. When it overtook the dispatcher's bulk mark
        // (which only moves queued rows), the delivery is recorded here or never.
        const delivered = row.delivered_at === null ? { delivered_at: reportedAt } : {};
        const res = await tx
          .updateTable('commands')
          .set({ ...fields, ...delivered, status: to, updated_at: this.ctx.now() })
          .where('id', '=', commandId)
          .where('status', '=', from)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 1) return true;
      }
      return false;
    });
  }
}
