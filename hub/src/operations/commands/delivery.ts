import type { Command, CommandProgress, CommandResult, CommandStatus } from '@crema/protocol';
import type { OpsContext } from '../context';
import { inTx } from '../shared/tx';
import { canMove } from './lifecycle';
import { toWireCommand } from './model';

/**
 * The device side of commands, for the sync path (MQTT or HTTP polling): what to send next, that it was
 * sent, and what the machine reported back. Reports that would move a command backwards or out of a
 * terminal state are ignored, so duplicates and out-of-order reports are harmless.
 */
export class CommandDelivery {
  constructor(private readonly ctx: OpsContext) {}

  /** Queued, unexpired commands of one device, oldest first, in the protocol's wire form. */
  async nextCommandsFor(deviceId: string, limit = 20): Promise<Command[]> {
    const rows = await this.ctx.db
      .selectFrom('commands')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('status', '=', 'queued')
      .where('expires_at', '>', this.ctx.now())
      .orderBy('issued_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toWireCommand);
  }

  /** Records that these commands were handed to the device; returns the ids that moved. */
  async markDelivered(deviceId: string, commandIds: string[]): Promise<string[]> {
    if (commandIds.length === 0) return [];
    const now = this.ctx.now();
    const moved = await this.ctx.db
      .updateTable('commands')
      .set({ status: 'delivered', delivered_at: now, updated_at: now })
      .where('device_id', '=', deviceId)
      .where('id', 'in', commandIds)
      .where('status', '=', 'queued')
      .returning('id')
      .execute();
    return moved.map((r) => r.id);
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
