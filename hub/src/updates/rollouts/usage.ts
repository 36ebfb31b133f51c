import type { OpsContext } from '../../operations/context';
import type { ArtifactUsage } from '../artifact-usage';
import { UNFINISHED } from './schema';

/** ArtifactUsage from the campaigns' tables: what the artifact routes ask before a delete or a download. */
export class RolloutArtifactUsage implements ArtifactUsage {
  constructor(private readonly ctx: OpsContext) {}

  async inUse(sha256: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('rollouts')
      .select('id')
      .where('artifact_sha256', '=', sha256)
      .where('status', 'in', [...UNFINISHED])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Offered once the campaign sent the machine its command, while the install may still need the file: the
   * machine is sent or installing, or the campaign is unfinished (a machine may resume a download after a
   * restart before its report reaches the hub).
   */
  async offeredTo(deviceId: string, sha256: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('rollout_devices as rd')
      .innerJoin('rollouts as r', 'r.id', 'rd.rollout_id')
      .select('r.id')
      .where('rd.device_id', '=', deviceId)
      .where('r.artifact_sha256', '=', sha256)
      .where('rd.command_id', 'is not', null)
      .where((eb) =>
        eb.or([eb('rd.status', 'in', ['sent', 'installing']), eb('r.status', 'in', [...UNFINISHED])]),
      )
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }
}
