import { IdSchema } from '@crema/protocol';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Actor, OpsContext } from '../../operations/context';
import { callerOf, mutate } from '../../operations/http';
import { requirePermission } from '../../rbac/require-permission';
import { queueTrustKeysForFleet } from '../../updates/keys/distribution';
import { type KeyChange, keyStatements } from '../../updates/keys/keyring';
import type { ApiDeps } from '../deps';
import type { HubApp, HubEnv } from '../env';
import { problemResponses } from '../problem';
import { jsonBody, jsonContent } from '../schemas';

const JwkSchema = z.object({ kty: z.string(), crv: z.string(), x: z.string() });
const KeySchema = z
  .object({
    kid: z.string(),
    status: z.enum(['current', 'retired', 'revoked']),
    jwk: JwkSchema,
    createdAt: z.number().int(),
    retiredAt: z.number().int().nullable(),
    revokedAt: z.number().int().nullable(),
    createdBy: z.string(),
  })
  .openapi('SigningKey');
const StatementSchema = z
  .object({
    seq: z.number().int(),
    jws: z.string().openapi({ description: 'Compact JWS, typ crema-key+jws (docs/protocol.md §15)' }),
    signerKid: z.string(),
    addedKid: z.string().nullable(),
    revoked: z.array(z.string()),
    issuedAt: z.number().int(),
  })
  .openapi('KeyStatement');
const ChangeSchema = z
  .object({
    current: z.string().openapi({ description: 'Key id that signs from now on' }),
    statement: StatementSchema,
    commandsQueued: z.number().int().openapi({ description: 'trust_keys commands queued to devices' }),
    manifestsResigned: z.number().int(),
  })
  .openapi('SigningKeyChange');

const tags = ['signing keys'];
const list = createRoute({
  method: 'get',
  path: '/api/v1/signing-keys',
  tags,
  summary: "The hub's signing keys (public halves) and the chain of key statements devices apply",
  middleware: requirePermission('device:read'),
  responses: {
    200: jsonContent(
      z.object({ current: z.string(), keys: z.array(KeySchema), statements: z.array(StatementSchema) }),
      'Keys and statements',
    ),
    ...problemResponses(401, 403),
  },
});
const rotate = createRoute({
  method: 'post',
  path: '/api/v1/signing-keys/rotate',
  tags,
  summary: 'Rotate: a new key signs from now on; a statement signed by the old key goes to every device',
  description:
    'The statement adds the new key and revokes the old one (unless `keepPrevious`, which leaves it trusted ' +
    'until revoked). Stored artifact manifests are signed again with the new key; a `trust_keys` command ' +
    'is queued for every active device, and devices that miss it get it when they come back (birth).',
  middleware: requirePermission('signing_key:write'),
  request: { body: jsonBody(z.object({ keepPrevious: z.boolean().default(false) })) },
  responses: { 201: jsonContent(ChangeSchema, 'Rotated'), ...problemResponses(400, 401, 403, 409) },
});
const revoke = createRoute({
  method: 'post',
  path: '/api/v1/signing-keys/{kid}/revoke',
  tags,
  summary: 'Revoke a retired key (compromised); the current key is rotated instead (409 SIGNING_KEY_CURRENT)',
  middleware: requirePermission('signing_key:write'),
  request: { params: z.object({ kid: IdSchema }) },
  responses: { 200: jsonContent(ChangeSchema, 'Revoked'), ...problemResponses(400, 401, 403, 404, 409) },
});

export function register(app: HubApp, deps: ApiDeps): void {
  const keyring = () => deps.operations.keyring;

  app.openapi(list, async (c) =>
    c.json(
      {
        // As the store says now: another hub process may have rotated it.
        current: (await keyring().fresh(deps.operations.ctx)).keyId,
        keys: await keyring().keys(deps.db.kysely),
        statements: await keyStatements(deps.db.kysely),
      },
      200,
    ),
  );

  app.openapi(rotate, async (c) => {
    const { keepPrevious } = c.req.valid('json');
    const before = (await keyring().fresh(deps.operations.ctx)).keyId;
    const out = await applyKeyChange(c, deps, 'rotate', before, (tx, actor) =>
      keyring().rotate(tx, actor, keepPrevious),
    );
    return c.json(out, 201);
  });
  app.openapi(revoke, async (c) => {
    const { kid } = c.req.valid('param');
    return c.json(await applyKeyChange(c, deps, 'revoke', kid, (tx) => keyring().revoke(tx, kid)), 200);
  });
}

/**
 * One key change, audited, with its `trust_keys` commands queued in the same transaction; the keyring
 * takes the new key only once all of it committed.
 */
async function applyKeyChange(
  c: Context<HubEnv>,
  deps: ApiDeps,
  kind: 'rotate' | 'revoke',
  targetKid: string,
  run: (tx: OpsContext, actor: Actor) => Promise<KeyChange>,
) {
  const { actor } = callerOf(c);
  const before = (await deps.operations.keyring.fresh(deps.operations.ctx)).keyId;
  const { out, committed } = await mutate(c, deps, async (tx) => {
    const ch = await run(tx, actor);
    const commands = await queueTrustKeysForFleet(tx, actor);
    const view = {
      current: ch.next.keyId,
      statement: ch.statement,
      commandsQueued: commands.length,
      manifestsResigned: ch.resigned,
    };
    return {
      result: { out: view, committed: ch },
      audit: [
        {
          action: `signing_key.${kind}`,
          targetType: 'signing_key',
          targetId: targetKid,
          merchantId: null,
          before: { current: before },
          after: { current: view.current, statement: ch.statement.seq, revoked: ch.statement.revoked },
        },
      ],
      events: commands.map((x) => ({
        type: 'command.queued',
        merchantId: x.merchantId,
        deviceId: x.deviceId,
        data: { id: x.id, kind: x.kind, batchId: x.batchId },
      })),
    };
  });
  deps.operations.keyring.adopt(committed);
  return out;
}
