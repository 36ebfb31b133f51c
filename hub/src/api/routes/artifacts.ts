import { ArtifactKindSchema, Sha256Schema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { HubError } from '../../errors';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import { ArtifactMetaSchema, ArtifactService } from '../../updates/artifacts/service';
import { chunksOf } from '../body-chunks';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemOf, problemResponse, problemResponses } from '../problem';
import { jsonContent, PageQuerySchema, pageOf } from '../schemas';

const ArtifactSchema = z
  .object({
    sha256: z.string(),
    kind: z.string(),
    version: z.string(),
    models: z.array(z.string()),
    size: z.number().int(),
    minVersion: z.string(),
    notes: z.string(),
    signedKid: z.string().openapi({ description: 'Key id of the hub key that signed the manifest' }),
    uploadedBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('Artifact');
const DetailSchema = ArtifactSchema.extend({
  manifest: z
    .string()
    .openapi({ description: 'The signed manifest, a compact JWS (typ crema-manifest+jws)' }),
  downloadPath: z.string().openapi({ description: 'Device download path (device credential, Range)' }),
}).openapi('ArtifactDetail');
const ShaParamSchema = z.object({ sha256: Sha256Schema });

const tags = ['artifacts'];
export const ARTIFACTS_PATH = '/api/v1/artifacts';

const upload = createRoute({
  method: 'post',
  path: ARTIFACTS_PATH,
  tags,
  summary: 'Upload an update artifact (streamed); the hub signs its manifest',
  description:
    'The body is the artifact itself (`application/octet-stream`, at most MAX_ARTIFACT_BYTES), streamed to ' +
    'the artifact store while it is hashed. The metadata travels in the query string: `kind`, `version`, ' +
    '`models` (comma-separated), `minVersion`, `notes`, and optionally `sha256`, the hash the uploader ' +
    'computed: bytes that hash otherwise are refused (422 ARTIFACT_HASH_MISMATCH) and nothing is kept. ' +
    'Too large → 413 PAYLOAD_TOO_LARGE; an existing kind+version or the same bytes → 409 CONFLICT.',
  middleware: requirePermission('artifact:write'),
  request: {
    query: ArtifactMetaSchema,
    body: {
      required: true,
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    201: jsonContent(DetailSchema, 'Stored and signed'),
    ...problemResponses(400, 401, 403, 409, 413, 415, 422),
  },
});
const list = createRoute({
  method: 'get',
  path: ARTIFACTS_PATH,
  tags,
  summary: 'Update artifacts, newest first (platform-wide)',
  middleware: requirePermission('artifact:read'),
  request: { query: PageQuerySchema.extend({ kind: ArtifactKindSchema.optional() }) },
  responses: {
    200: jsonContent(pageOf(ArtifactSchema, 'ArtifactPage'), 'Artifacts'),
    ...problemResponses(400, 401, 403),
  },
});
const detail = createRoute({
  method: 'get',
  path: `${ARTIFACTS_PATH}/{sha256}`,
  tags,
  summary: 'One artifact with its signed manifest',
  middleware: requirePermission('artifact:read'),
  request: { params: ShaParamSchema },
  responses: { 200: jsonContent(DetailSchema, 'The artifact'), ...problemResponses(400, 401, 403, 404) },
});
const remove = createRoute({
  method: 'delete',
  path: `${ARTIFACTS_PATH}/{sha256}`,
  tags,
  summary: 'Delete an artifact; refused (409 ARTIFACT_IN_USE) while an unfinished rollout uses it',
  middleware: requirePermission('artifact:write'),
  request: { params: ShaParamSchema },
  responses: { 200: jsonContent(DetailSchema, 'Deleted'), ...problemResponses(400, 401, 403, 404, 409) },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const service = (ctx = deps.operations.ctx) =>
    new ArtifactService(ctx, deps.artifacts, deps.artifactUsage, deps.maxArtifactBytes);

  app.openapi(list, async (c) => c.json(await service().list(c.req.valid('query')), 200));
  app.openapi(detail, async (c) => c.json(await service().get(c.req.valid('param').sha256), 200));

  app.openapi(upload, async (c) => {
    const meta = c.req.valid('query');
    let stored: { sha256: string; size: number };
    try {
      const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/octet-stream')
        throw new HubError('UNSUPPORTED_MEDIA_TYPE', 'upload the artifact as application/octet-stream');
      const declared = Number(c.req.header('content-length') ?? Number.NaN);
      if (declared > deps.maxArtifactBytes)
        throw new HubError('PAYLOAD_TOO_LARGE', `an artifact is at most ${deps.maxArtifactBytes} bytes`);
      await service().checkNew(meta);
      const body = c.req.raw.body;
      if (!body) throw new HubError('VALIDATION_FAILED', 'the artifact is empty');
      stored = await service().receive(meta, chunksOf(body));
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      // The rest of the body may never be read: the server drops the socket after answering, so say so.
      return problemResponse(problemOf(err.code, err.message, c.req.path), { connection: 'close' }) as never;
    }
    const { actor } = callerOf(c);
    try {
      const created = await mutate(c, deps, async (tx) => {
        // The key current in the store now: another hub process may have rotated it.
        const key = await deps.operations.keyring.fresh(tx, 'share');
        const d = await service(tx).record(meta, stored, key, actor);
        const { manifest: _m, ...after } = d;
        return {
          result: d,
          audit: [
            {
              action: 'artifact.upload',
              targetType: 'artifact',
              targetId: d.sha256,
              merchantId: null,
              after,
            },
          ],
        };
      });
      return c.json(created, 201);
    } catch (err) {
      await service().discard(stored.sha256);
      throw err;
    }
  });

  app.openapi(remove, async (c) => {
    const { sha256 } = c.req.valid('param');
    const deleted = await mutate(c, deps, async (tx) => {
      const before = await service(tx).delete(sha256);
      const { manifest: _m, ...summary } = before;
      return {
        result: before,
        audit: [
          {
            action: 'artifact.delete',
            targetType: 'artifact',
            targetId: sha256,
            merchantId: null,
            before: summary,
          },
        ],
      };
    });
    await service().forget(sha256);
    return c.json(deleted, 200);
  });
}
