import { ALL_MERCHANTS } from '../../../src/operations/context';
import { RolloutService } from '../../../src/updates/rollouts/service';
import type { TestApi } from '../../support/api';
import { addArtifact, addFleet } from '../../updates/support/rollout-fixture';
import type { MatrixRow } from './routes';

/** Rows of the rollout campaign routes. Joined into MATRIX by routes.ts. */
const artifacts = new WeakMap<TestApi, Promise<string>>();
/** One artifact per test API (kind and version are unique); campaigns over fresh machines share it. */
function artifact(t: TestApi): Promise<string> {
  let sha = artifacts.get(t);
  if (!sha) {
    sha = addArtifact(t);
    artifacts.set(t, sha);
  }
  return sha;
}

async function campaign(t: TestApi, merchantId: string, status: 'running' | 'paused' = 'running') {
  const [deviceId] = await addFleet(t, merchantId, 1);
  const svc = new RolloutService(t.deps.operations.ctx);
  const r = await svc.create(
    ALL_MERCHANTS,
    { userId: t.fx.superadmin.id },
    {
      name: 'matrix',
      artifact: await artifact(t),
      target: { deviceIds: [deviceId as string] },
      phases: [{ percent: 100, soakMs: 0 }],
    },
  );
  if (status === 'paused') await svc.pause(ALL_MERCHANTS, r.id);
  return r.id;
}

const action = (name: 'pause' | 'resume' | 'cancel'): MatrixRow => ({
  method: 'POST',
  path: `/api/v1/rollouts/{id}/${name}`,
  access: 'device:command',
  kind: 'item',
  audit: `rollout.${name}`,
  build: async ({ t, merchantId }) => ({
    path: `/api/v1/rollouts/${await campaign(t, merchantId, name === 'resume' ? 'paused' : 'running')}/${name}`,
  }),
});

export const ROLLOUT_MATRIX: MatrixRow[] = [
  {
    method: 'POST',
    path: '/api/v1/rollouts',
    access: 'device:command',
    kind: 'create',
    audit: 'rollout.create',
    build: async ({ t, merchantId }) => ({
      path: '/api/v1/rollouts',
      body: {
        name: 'matrix',
        artifact: await artifact(t),
        target: { deviceIds: await addFleet(t, merchantId, 1) },
        phases: [{ percent: 100, soakMs: 0 }],
      },
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/rollouts',
    access: 'device:read',
    kind: 'list',
    build: async ({ t, merchantId }) => ({
      path: '/api/v1/rollouts?limit=500',
      marker: await campaign(t, merchantId),
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/rollouts/{id}',
    access: 'device:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({ path: `/api/v1/rollouts/${await campaign(t, merchantId)}` }),
  },
  {
    method: 'GET',
    path: '/api/v1/rollouts/{id}/devices',
    access: 'device:read',
    kind: 'item',
    build: async ({ t, merchantId }) => ({
      path: `/api/v1/rollouts/${await campaign(t, merchantId)}/devices`,
    }),
  },
  action('pause'),
  action('resume'),
  action('cancel'),
];
