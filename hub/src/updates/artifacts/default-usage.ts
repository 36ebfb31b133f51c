import type { Kysely } from 'kysely';
import type { Database } from '../../db/database';
import type { ArtifactUsage } from '../artifact-usage';

/**
 * The usage a hub without a rollouts module answers with: nothing blocks a delete, and a device may fetch
 * any artifact the hub holds (it still needs a signed command naming it to install anything).
 */
export function storedArtifactUsage(db: Kysely<Database>): ArtifactUsage {
  return {
    inUse: async () => false,
    offeredTo: async (_deviceId, sha256) =>
      (await db.selectFrom('artifacts').select('sha256').where('sha256', '=', sha256).executeTakeFirst()) !==
      undefined,
  };
}
