import { Readable } from 'node:stream';
import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { HubError } from '../../errors';
import { callerOf, mutate } from '../../operations/http';
import {
  ATTACHMENT_NAMESPACE,
  AttachmentService,
  type ReceivedFile,
} from '../../operations/workorders/attachments';
import { ATTACHMENT_TYPES } from '../../operations/workorders/file-type';
import { requirePermission } from '../../rbac/require-permission';
import { chunksOf } from '../body-chunks';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { multipartBoundary, multipartFile } from '../multipart-file';
import { problemOf, problemResponse, problemResponses } from '../problem';
import { IdParamSchema, jsonContent } from '../schemas';

const AttachmentSchema = z
  .object({
    id: z.string(),
    workOrderId: z.string(),
    merchantId: z.string(),
    fileName: z.string(),
    contentType: z.enum(ATTACHMENT_TYPES).openapi({ description: 'Judged from the bytes, not the name' }),
    size: z.number().int(),
    sha256: z.string(),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('WorkOrderAttachment');
const ItemParamSchema = z.object({ id: IdSchema, attachmentId: IdSchema });

const tags = ['work orders'];
export const ATTACHMENTS_PATH = /^\/api\/v1\/work-orders\/[^/]+\/attachments$/;

const upload = createRoute({
  method: 'post',
  path: '/api/v1/work-orders/{id}/attachments',
  tags,
  summary: 'Attach a photo or manual (JPEG, PNG, WebP, PDF), streamed',
  description:
    'The body is the file itself (any content type but multipart; name it in `X-File-Name`, URL-encoded), or ' +
    '`multipart/form-data` with the file in the part named `file` (its filename is the name). The type is ' +
    'judged from the first bytes: anything but JPEG, PNG, WebP or PDF (SVG and HTML included, whatever the ' +
    'name or declared type) → 415 ATTACHMENT_TYPE_UNSUPPORTED. Larger than CREMA_ATTACHMENT_MAX_BYTES ' +
    '(default 10 MiB) → 413 PAYLOAD_TOO_LARGE, refused while it streams; a full work order → 409 ' +
    'ATTACHMENT_LIMIT_REACHED; a closed one → 409 INVALID_TRANSITION. Nothing is kept on refusal.',
  middleware: requirePermission('device:write'),
  request: {
    params: IdParamSchema,
    headers: z.object({ 'x-file-name': z.string().max(1000).optional() }),
    body: {
      required: true,
      content: {
        'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
        // A plain schema, not zod: a zod one would make the route parse (buffer) the form before the handler.
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: { file: { type: 'string', format: 'binary' } },
            required: ['file'],
          },
        },
      },
    },
  },
  responses: {
    201: jsonContent(AttachmentSchema, 'Stored'),
    ...problemResponses(400, 401, 403, 404, 409, 413, 415),
  },
});
const list = createRoute({
  method: 'get',
  path: '/api/v1/work-orders/{id}/attachments',
  tags,
  summary: "A work order's attachments, oldest first",
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: {
    200: jsonContent(
      z.object({ items: z.array(AttachmentSchema) }).openapi('WorkOrderAttachments'),
      'Attachments',
    ),
    ...problemResponses(400, 401, 403, 404),
  },
});
const download = createRoute({
  method: 'get',
  path: '/api/v1/work-orders/{id}/attachments/{attachmentId}',
  tags,
  summary: 'Download an attachment (always as a download, with its judged type and nosniff)',
  middleware: requirePermission('device:read'),
  request: { params: ItemParamSchema },
  responses: {
    200: {
      description: 'The file',
      content: Object.fromEntries(
        ATTACHMENT_TYPES.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]),
      ),
    },
    ...problemResponses(400, 401, 403, 404),
  },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/v1/work-orders/{id}/attachments/{attachmentId}',
  tags,
  summary: 'Delete an attachment',
  middleware: requirePermission('device:write'),
  request: { params: ItemParamSchema },
  responses: { 200: jsonContent(AttachmentSchema, 'Deleted'), ...problemResponses(400, 401, 403, 404) },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const store = deps.artifacts.namespace(ATTACHMENT_NAMESPACE);
  const service = (ctx = deps.operations.ctx) => new AttachmentService(ctx, store, deps.attachmentLimits);

  app.openapi(upload, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    let received: ReceivedFile;
    let fileName: string | undefined;
    try {
      const declared = Number(c.req.header('content-length') ?? Number.NaN);
      // Multipart framing adds a little; the file itself is held to the limit while it streams.
      if (declared > deps.attachmentLimits.maxBytes + 64 * 1024)
        throw new HubError(
          'PAYLOAD_TOO_LARGE',
          `an attachment is at most ${deps.attachmentLimits.maxBytes} bytes`,
        );
      await service().checkRoom(scope, id);
      const body = c.req.raw.body;
      if (!body) throw new HubError('VALIDATION_FAILED', 'the file is empty');
      const boundary = multipartBoundary(c.req.header('content-type'));
      if (boundary === undefined) {
        fileName = decodeName(c.req.header('x-file-name'));
        received = await service().receive(chunksOf(body));
      } else {
        const part = multipartFile(chunksOf(body), boundary);
        received = await service().receive(part.stream);
        fileName = part.fileName();
      }
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      // The rest of the body may never be read: the server drops the socket after answering, so say so.
      return problemResponse(problemOf(err.code, err.message, c.req.path), { connection: 'close' }) as never;
    }
    try {
      const created = await mutate(c, deps, async (tx) => {
        const a = await service(tx).record(scope, actor, id, fileName, received);
        return {
          result: a,
          audit: [
            {
              action: 'workorder.attachment.upload',
              targetType: 'work_order',
              targetId: id,
              merchantId: a.merchantId,
              after: a,
            },
          ],
          events: [{ type: 'workorder.changed', merchantId: a.merchantId, data: { id, attachmentId: a.id } }],
        };
      });
      return c.json(created, 201);
    } catch (err) {
      await service().forget(received.sha256);
      throw err;
    }
  });

  app.openapi(list, async (c) =>
    c.json({ items: await service().list(callerOf(c).scope, c.req.valid('param').id) }, 200),
  );

  app.openapi(download, async (c) => {
    const { id, attachmentId } = c.req.valid('param');
    const { attachment, body } = await service().open(callerOf(c).scope, id, attachmentId);
    return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        'content-type': attachment.contentType,
        'content-length': String(attachment.size),
        'content-disposition': contentDisposition(attachment.fileName),
        'x-content-type-options': 'nosniff',
        // Even opened directly, the file runs nothing and reaches nothing.
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'private, no-store',
      },
    }) as never;
  });

  app.openapi(remove, async (c) => {
    const { scope } = callerOf(c);
    const { id, attachmentId } = c.req.valid('param');
    const deleted = await mutate(c, deps, async (tx) => {
      const before = await service(tx).delete(scope, id, attachmentId);
      return {
        result: before,
        audit: [
          {
            action: 'workorder.attachment.delete',
            targetType: 'work_order',
            targetId: id,
            merchantId: before.merchantId,
            before,
          },
        ],
        events: [{ type: 'workorder.changed', merchantId: before.merchantId, data: { id, attachmentId } }],
      };
    });
    await service().forget(deleted.sha256);
    return c.json(deleted, 200);
  });
}

function decodeName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  try {
    return decodeURIComponent(header);
  } catch {
    return header;
  }
}

/** `attachment` with an ASCII fallback and the exact name in RFC 5987 form. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
