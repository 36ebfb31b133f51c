import { createRoute, z } from '@hono/zod-openapi';
import { AuditFilterSchema, exportAuditCsv, queryAudit } from '../../operations/audit-query/query';
import { callerOf, textStream } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { jsonContent, PageQuerySchema, pageOf } from '../schemas';

const AuditRecordSchema = z
  .object({
    id: z.string(),
    at: z.number().int(),
    actorUserId: z.string().nullable(),
    actorRole: z.string().nullable(),
    merchantId: z.string().nullable(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    apiKeyId: z.string().nullable(),
  })
  .openapi('AuditRecord');

const tags = ['audit'];
const errors = problemResponses(400, 401, 403);
const list = createRoute({
  method: 'get',
  path: '/api/v1/audit-log',
  tags,
  summary: 'Who changed what, when, from where (before/after where it matters); filterable',
  middleware: requirePermission('audit:read'),
  request: { query: PageQuerySchema.extend(AuditFilterSchema.shape) },
  responses: { 200: jsonContent(pageOf(AuditRecordSchema, 'AuditPage'), 'Entries, newest first'), ...errors },
});
const exportCsv = createRoute({
  method: 'get',
  path: '/api/v1/audit-log/export.csv',
  tags,
  summary: 'The filtered audit log as CSV, streamed',
  middleware: requirePermission('audit:read'),
  request: { query: AuditFilterSchema },
  responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errors },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const db = deps.db.kysely;
  app.openapi(list, async (c) => c.json(await queryAudit(db, callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(exportCsv, async (c) =>
    c.body(textStream(exportAuditCsv(db, callerOf(c).scope, c.req.valid('query'))), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="audit-log.csv"',
    }),
  );
}
