import { RecipeBundleSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import { callerOf, mutate } from '../../operations/http';
import { AssignTargetSchema, RecipeService, RecipeSetInputSchema } from '../../operations/recipes/service';
import { requirePermission } from '../../rbac/require-permission';
import type { ApiDeps } from '../deps';
import type { HubApp } from '../env';
import { problemResponses } from '../problem';
import { IdParamSchema, jsonBody, jsonContent, PageQuerySchema, pageOf } from '../schemas';

const SummarySchema = z
  .object({
    id: z.string(),
    merchantId: z.string(),
    version: z.number().int(),
    recipes: z.number().int(),
    sha256: z.string(),
    note: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.number().int(),
  })
  .openapi('RecipeSetSummary');
const DetailSchema = SummarySchema.extend({
  bundle: RecipeBundleSchema,
}).openapi('RecipeSet');
const AssignmentSchema = z
  .object({
    id: z.string(),
    recipeSetId: z.string(),
    version: z.number().int(),
    targetType: z.enum(['device', 'location']),
    targetId: z.string(),
    batchId: z.string(),
    createdBy: z.string(),
    createdAt: z.number().int(),
    rollout: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'install_recipes commands by status' }),
  })
  .openapi('RecipeAssignment');

const tags = ['recipes'];
const errors = problemResponses(400, 401, 403, 404, 409);
const list = createRoute({
  method: 'get',
  path: '/api/v1/recipe-sets',
  tags,
  summary: 'Menu versions (recipes and prices) per merchant, newest first',
  middleware: requirePermission('device:read'),
  request: { query: PageQuerySchema },
  responses: { 200: jsonContent(pageOf(SummarySchema, 'RecipeSetPage'), 'Versions'), ...errors },
});
const create = createRoute({
  method: 'post',
  path: '/api/v1/recipe-sets',
  tags,
  summary: 'Publish a new version: validated with the protocol recipe schema, numbered, signed (Ed25519)',
  middleware: requirePermission('device:write'),
  request: { body: jsonBody(RecipeSetInputSchema) },
  responses: { 201: jsonContent(DetailSchema, 'Published'), ...errors },
});
const detail = createRoute({
  method: 'get',
  path: '/api/v1/recipe-sets/{id}',
  tags,
  summary: 'One version with its signed bundle',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(DetailSchema, 'The version'), ...errors },
});
const assign = createRoute({
  method: 'post',
  path: '/api/v1/recipe-sets/{id}/assign',
  tags,
  summary: 'Roll a version out to a machine or every machine of a location (install_recipes commands)',
  middleware: requirePermission('device:command'),
  request: {
    params: IdParamSchema,
    body: jsonBody(z.object({ target: AssignTargetSchema, ttlMs: z.number().int().min(1000).optional() })),
  },
  responses: { 201: jsonContent(AssignmentSchema, 'Assigned'), ...errors },
});
const assignments = createRoute({
  method: 'get',
  path: '/api/v1/recipe-sets/{id}/assignments',
  tags,
  summary: 'Where a version was assigned, with rollout status',
  middleware: requirePermission('device:read'),
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(z.object({ items: z.array(AssignmentSchema) }), 'Assignments'), ...errors },
});
const signingKey = createRoute({
  method: 'get',
  path: '/api/v1/recipe-sets/signing-key',
  tags,
  summary: "The hub's public key that verifies recipe bundles (install it on machines)",
  middleware: requirePermission('device:read'),
  responses: {
    200: jsonContent(
      z.object({ alg: z.literal('Ed25519'), keyId: z.string(), publicKeyPem: z.string() }),
      'The key',
    ),
    ...problemResponses(401, 403),
  },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const ops = () => deps.operations;
  const service = () => new RecipeService(ops().ctx, ops().signingKey);

  app.openapi(signingKey, async (c) => {
    const key = await ops().keyring.fresh(ops().ctx);
    return c.json({ alg: 'Ed25519' as const, keyId: key.keyId, publicKeyPem: key.publicKeyPem }, 200);
  });
  app.openapi(list, async (c) => c.json(await service().list(callerOf(c).scope, c.req.valid('query')), 200));
  app.openapi(detail, async (c) =>
    c.json(await service().get(callerOf(c).scope, c.req.valid('param').id), 200),
  );
  app.openapi(assignments, async (c) =>
    c.json({ items: await service().listAssignments(callerOf(c).scope, c.req.valid('param').id) }, 200),
  );

  app.openapi(create, async (c) => {
    const { scope, actor } = callerOf(c);
    const body = c.req.valid('json');
    const set = await mutate(c, deps, async (tx) => {
      const key = await ops().keyring.fresh(tx, 'share');
      const created = await new RecipeService(tx, key).create(scope, actor, body);
      const { bundle: _bundle, ...summary } = created;
      return {
        result: created,
        audit: [
          {
            action: 'recipe_set.create',
            targetType: 'recipe_set',
            targetId: created.id,
            merchantId: created.merchantId,
            after: summary,
          },
        ],
      };
    });
    return c.json(set, 201);
  });

  app.openapi(assign, async (c) => {
    const { scope, actor } = callerOf(c);
    const { id } = c.req.valid('param');
    const { target, ttlMs } = c.req.valid('json');
    const assignment = await mutate(c, deps, async (tx) => {
      const svc = new RecipeService(tx, await ops().keyring.fresh(tx, 'share'));
      const set = await svc.get(scope, id);
      const { assignment: a, commands } = await svc.assign(scope, actor, id, target, ttlMs);
      return {
        result: a,
        events: commands.map((x) => ({
          type: 'command.queued',
          merchantId: x.merchantId,
          deviceId: x.deviceId,
          data: { id: x.id, kind: x.kind, batchId: x.batchId },
        })),
        audit: [
          {
            action: 'recipe_set.assign',
            targetType: 'recipe_set',
            targetId: id,
            merchantId: set.merchantId,
            after: a,
          },
        ],
      };
    });
    return c.json(assignment, 201);
  });
}
