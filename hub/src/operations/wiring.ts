import type { ApiDeps } from '../api/deps';
import { registerOperationsMetrics } from './metrics';
import { SigningKey } from './recipes/signing-key';
import { Operations } from './runtime';

const attached = new WeakMap<ApiDeps, Operations>();

/**
 * Makes `ops` the operations runtime the API routes of `deps` use (the hub calls this once after building
 * its deps, with the signing key from the data directory and the ingest's fleet events) and registers the
 * operations metrics on the hub's registry.
 */
export function attachOperations(deps: ApiDeps, ops: Operations): Operations {
  if (attached.has(deps)) throw new Error('operations already attached to these API deps');
  attached.set(deps, ops);
  registerOperationsMetrics(deps.metrics.registry, ops.ctx);
  return ops;
}

/** The runtime attached to `deps`, if any (the hub's device channel starts one when nobody else did). */
export function attachedOperations(deps: ApiDeps): Operations | undefined {
  return attached.get(deps);
}

/**
 * The runtime of `deps`; when none was attached (API tests, tools), one with a throw-away signing key that
 * is not started: the API works, and sweeps run only when asked.
 */
export function operationsFor(deps: ApiDeps): Operations {
  const existing = attached.get(deps);
  if (existing) return existing;
  const ops = new Operations({
    db: deps.db.kysely,
    kind: deps.db.kind,
    clock: deps.clock,
    logger: deps.logger,
    signingKey: SigningKey.generate(),
  });
  return attachOperations(deps, ops);
}
