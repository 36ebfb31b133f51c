import { randomBytes } from 'node:crypto';
import type { TestApi } from '../../support/api';
import type { MatrixRow } from './routes';

/**
 * Rows of the platform-wide update routes (artifacts, signing keys): no merchant owns them, so a caller
 * who may read sees the same thing whichever merchant it belongs to (`platform` rows).
 */
let n = 0;
const version = () => {
  n += 1;
  return `3.${n}.0-m${randomBytes(4).toString('hex')}`;
};

function uploadRequest() {
  const query = new URLSearchParams({
    kind: 'agent',
    version: version(),
    models: 'CM-1',
    minVersion: '1.0.0',
  });
  return {
    path: `/api/v1/artifacts?${query}`,
    rawBody: randomBytes(512).toString('base64'),
    headers: { 'content-type': 'application/octet-stream' },
  };
}

/** An artifact uploaded by the superadmin; returns its sha256. */
async function seedArtifact(t: TestApi): Promise<string> {
  const { path, rawBody, headers } = uploadRequest();
  const res = await t.request('POST', path, { token: t.fx.superadmin.token, rawBody, headers });
  if (res.status !== 201) throw new Error(`seed artifact: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { sha256: string }).sha256;
}

/** A retired key (rotated away with keepPrevious); returns its kid. */
async function seedRetiredKey(t: TestApi): Promise<string> {
  const before = t.deps.operations.keyring.current().keyId;
  const res = await t.request('POST', '/api/v1/signing-keys/rotate', {
    token: t.fx.superadmin.token,
    body: { keepPrevious: true },
  });
  if (res.status !== 201) throw new Error(`seed key: ${res.status} ${await res.text()}`);
  return before;
}

export const UPDATES_MATRIX: MatrixRow[] = [
  {
    method: 'POST',
    path: '/api/v1/artifacts',
    access: 'artifact:write',
    kind: 'platform',
    audit: 'artifact.upload',
    build: async () => uploadRequest(),
  },
  {
    method: 'GET',
    path: '/api/v1/artifacts',
    access: 'artifact:read',
    kind: 'platform',
    build: async ({ t }) => ({ path: '/api/v1/artifacts?limit=500', marker: await seedArtifact(t) }),
  },
  {
    method: 'GET',
    path: '/api/v1/artifacts/{sha256}',
    access: 'artifact:read',
    kind: 'platform',
    build: async ({ t }) => ({ path: `/api/v1/artifacts/${await seedArtifact(t)}` }),
  },
  {
    method: 'DELETE',
    path: '/api/v1/artifacts/{sha256}',
    access: 'artifact:write',
    kind: 'platform',
    audit: 'artifact.delete',
    build: async ({ t }) => ({ path: `/api/v1/artifacts/${await seedArtifact(t)}` }),
  },
  {
    method: 'GET',
    path: '/api/v1/signing-keys',
    access: 'device:read',
    kind: 'platform',
    build: async ({ t }) => ({
      path: '/api/v1/signing-keys',
      marker: t.deps.operations.keyring.current().keyId,
    }),
  },
  {
    method: 'POST',
    path: '/api/v1/signing-keys/rotate',
    access: 'signing_key:write',
    kind: 'platform',
    audit: 'signing_key.rotate',
    build: async () => ({ path: '/api/v1/signing-keys/rotate', body: { keepPrevious: true } }),
  },
  {
    method: 'POST',
    path: '/api/v1/signing-keys/{kid}/revoke',
    access: 'signing_key:write',
    kind: 'platform',
    audit: 'signing_key.revoke',
    build: async ({ t }) => ({ path: `/api/v1/signing-keys/${await seedRetiredKey(t)}/revoke` }),
  },
];
