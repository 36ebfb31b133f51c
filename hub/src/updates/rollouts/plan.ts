import { compareSemver, type ErrorCode } from '@crema/protocol';
import type { RolloutPhase } from './schema';

/** A machine the target resolved to, with what it runs (from its last birth). */
export interface Candidate {
  id: string;
  merchantId: string;
  model: string;
  /** Running version of the artifact's kind; null when the machine never reported one. */
  version: string | null;
  /** Already named by another unfinished campaign of the same kind. */
  busy: boolean;
}

export interface ArtifactFacts {
  version: string;
  minVersion: string;
  models: readonly string[];
}

export interface Skip {
  reason: ErrorCode;
  detail: string;
}

/** Why a machine is left out, or null when it can take the artifact. */
export function skipReason(c: Candidate, artifact: ArtifactFacts): Skip | null {
  if (!artifact.models.includes(c.model))
    return {
      reason: 'UPDATE_MODEL_MISMATCH',
      detail: `model ${c.model} is not among ${artifact.models.join(', ')}`,
    };
  if (c.busy) return { reason: 'ROLLOUT_DEVICE_BUSY', detail: 'in another unfinished campaign of this kind' };
  if (c.version !== null && compareSemver(c.version, artifact.version) >= 0)
    return { reason: 'UPDATE_DOWNGRADE', detail: `runs ${c.version} already` };
  if (c.version !== null && compareSemver(c.version, artifact.minVersion) < 0)
    return { reason: 'UPDATE_FLOOR', detail: `${c.version} is older than ${artifact.minVersion}` };
  return null;
}

/**
 * Splits the eligible machines into phases, in the given order: `count` adds that many, `percent` fills up to
 * that share of all of them (at least one more), and the last phase takes the rest. Returns the phase of each.
 */
export function assignPhases(total: number, phases: readonly RolloutPhase[]): number[] {
  const out: number[] = [];
  let taken = 0;
  phases.forEach((p, i) => {
    const last = i === phases.length - 1;
    let upTo: number;
    if (last) upTo = total;
    else if (p.count !== undefined) upTo = taken + p.count;
    else upTo = Math.max(taken + 1, Math.ceil((total * (p.percent ?? 100)) / 100));
    upTo = Math.min(upTo, total);
    while (taken < upTo) {
      out.push(i);
      taken++;
    }
  });
  return out;
}
