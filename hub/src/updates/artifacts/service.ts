import {
  ArtifactKindSchema,
  type ArtifactManifest,
  artifactPath,
  IdSchema,
  MANIFEST_TYP,
  MAX_ARTIFACT_BYTES,
  manifestBytes,
  SemverSchema,
  Sha256Schema,
} from '@crema/protocol';
import { z } from '@hono/zod-openapi';
import type { Selectable } from 'kysely';
import type { ArtifactsTable } from '../../db/tables/updates';
import { HubError } from '../../errors';
import type { Actor, OpsContext, Page, PageQuery } from '../../operations/context';
import { pageBounds } from '../../operations/context';
import type { SigningKey } from '../../operations/recipes/signing-key';
import type { ArtifactUsage } from '../artifact-usage';
import type { ArtifactStore } from './store';

/** What an upload says about its bytes (query parameters of `POST /artifacts`). */
export const ArtifactMetaSchema = z.object({
  kind: ArtifactKindSchema,
  version: SemverSchema,
  /** Comma-separated machine model ids. */
  models: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((m) => m.trim()))
    .pipe(z.array(IdSchema).min(1).max(32)),
  minVersion: SemverSchema,
  notes: z.string().max(4000).default(''),
  /** The sha256 the uploader computed; the upload is refused when the bytes hash otherwise. */
  sha256: Sha256Schema.optional(),
});
export type ArtifactMeta = z.infer<typeof ArtifactMetaSchema>;

export interface ArtifactView {
  sha256: string;
  kind: string;
  version: string;
  models: string[];
  size: number;
  minVersion: string;
  notes: string;
  signedKid: string;
  uploadedBy: string;
  createdAt: number;
}
export interface ArtifactDetail extends ArtifactView {
  /** The signed manifest (compact JWS) that upgrade commands carry. */
  manifest: string;
  /** Where a device downloads the bytes (device credential, `Range` supported). */
  downloadPath: string;
}

/**
 * Update artifacts: bytes in the ArtifactStore, one row each with the manifest the hub signed. Platform-wide
 * (no merchant): RBAC decides who may write; every merchant role that may read sees them all.
 */
export class ArtifactService {
  constructor(
    private readonly ctx: OpsContext,
    private readonly store: ArtifactStore,
    private readonly usage: ArtifactUsage,
    private readonly maxBytes: number = MAX_ARTIFACT_BYTES,
  ) {}

  /** Checks what can be checked before a byte is read: the same kind and version must not exist yet. */
  async checkNew(meta: ArtifactMeta): Promise<void> {
    const clash = await this.ctx.db
      .selectFrom('artifacts')
      .select('sha256')
      .where('kind', '=', meta.kind)
      .where('version', '=', meta.version)
      .executeTakeFirst();
    if (clash) throw new HubError('CONFLICT', `${meta.kind} ${meta.version} exists (${clash.sha256})`);
  }

  /** Streams the bytes into the store; on any refusal nothing stays (the store cleans its temp file). */
  async receive(meta: ArtifactMeta, bytes: AsyncIterable<Uint8Array>) {
    return this.store.put(bytes, {
      maxBytes: this.maxBytes,
      ...(meta.sha256 ? { expectedSha256: meta.sha256 } : {}),
    });
  }

  /** Signs the manifest of stored bytes and records the artifact. Runs inside the caller's transaction. */
  async record(
    meta: ArtifactMeta,
    stored: { sha256: string; size: number },
    key: SigningKey,
    actor: Actor,
  ): Promise<ArtifactDetail> {
    await this.checkNew(meta);
    const same = await this.ctx.db
      .selectFrom('artifacts')
      .select(['kind', 'version'])
      .where('sha256', '=', stored.sha256)
      .executeTakeFirst();
    if (same) throw new HubError('CONFLICT', `these bytes are already ${same.kind} ${same.version}`);
    const manifest: ArtifactManifest = {
      kind: meta.kind,
      version: meta.version,
      models: meta.models,
      size: stored.size,
      sha256: stored.sha256,
      minVersion: meta.minVersion,
      notes: meta.notes,
      createdAt: this.ctx.now(),
    };
    const row: Selectable<ArtifactsTable> = {
      sha256: stored.sha256,
      kind: manifest.kind,
      version: manifest.version,
      models: JSON.stringify(manifest.models),
      size: manifest.size,
      min_version: manifest.minVersion,
      notes: manifest.notes,
      manifest_jws: await key.signJws(manifestBytes(manifest), MANIFEST_TYP),
      signed_kid: key.keyId,
      uploaded_by: actor.userId,
      created_at: manifest.createdAt,
    };
    await this.ctx.db.insertInto('artifacts').values(row).execute();
    return toDetail(row);
  }

  /** Removes bytes that no row names (an upload refused after it was stored). */
  async discard(sha256: string): Promise<void> {
    const named = await this.ctx.db
      .selectFrom('artifacts')
      .select('sha256')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!named) await this.store.delete(sha256);
  }

  async list(filter: PageQuery & { kind?: string }): Promise<Page<ArtifactView>> {
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('artifacts');
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    const [rows, count] = await Promise.all([
      q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('sha256', 'asc')
        .limit(limit)
        .offset(offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toView), total: Number(count.n), limit, offset };
  }

  async get(sha256: string): Promise<ArtifactDetail> {
    const row = await this.ctx.db
      .selectFrom('artifacts')
      .selectAll()
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `artifact ${sha256} not found`);
    return toDetail(row);
  }

  /** Deletes the row (in the caller's transaction); the bytes go once it committed (`forget`). */
  async delete(sha256: string): Promise<ArtifactDetail> {
    const before = await this.get(sha256);
    if (await this.usage.inUse(sha256))
      throw new HubError('ARTIFACT_IN_USE', `an unfinished rollout uses ${before.kind} ${before.version}`);
    await this.ctx.db.deleteFrom('artifacts').where('sha256', '=', sha256).execute();
    return before;
  }

  forget(sha256: string): Promise<void> {
    return this.store.delete(sha256);
  }
}

function toView(r: Selectable<ArtifactsTable>): ArtifactView {
  return {
    sha256: r.sha256,
    kind: r.kind,
    version: r.version,
    models: JSON.parse(r.models) as string[],
    size: Number(r.size),
    minVersion: r.min_version,
    notes: r.notes,
    signedKid: r.signed_kid,
    uploadedBy: r.uploaded_by,
    createdAt: Number(r.created_at),
  };
}

function toDetail(r: Selectable<ArtifactsTable>): ArtifactDetail {
  return { ...toView(r), manifest: r.manifest_jws, downloadPath: artifactPath(r.sha256) };
}
