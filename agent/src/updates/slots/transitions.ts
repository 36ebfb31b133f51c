import { AgentError } from '../../errors';
import type { SlotName } from '../release-slots';
import { otherSlot, type Pointer } from './pointer';

/**
 * The pointer's state machine, as pure functions: each returns the next pointer, which the caller writes in
 * one atomic rename. steady → (activate) → trial → (confirm) steady on the new slot
 *                                          trial → (roll back) steady on the old slot, `last` says why.
 */

/** Starts a trial of the release staged in the inactive slot. Refused while another trial is unresolved. */
export function activateTrial(
  p: Pointer,
  staged: { slot: SlotName; version: string },
  running: { version: string },
  now: number,
): Pointer {
  if (p.trial) {
    throw new AgentError(
      'CONFLICT',
      `release ${p.trial.version} is still on trial; it must be confirmed or rolled back first`,
    );
  }
  if (staged.slot === p.active) {
    throw new AgentError('CONFLICT', `slot ${staged.slot} is the active slot; stage into the other one`);
  }
  return {
    v: 1,
    active: staged.slot,
    trial: {
      slot: staged.slot,
      version: staged.version,
      from: { slot: p.active, version: running.version },
      activatedAt: now,
      attempts: 0,
    },
    ...(p.last ? { last: p.last } : {}),
  };
}

/** Counts one more start of the trial release (before it is started). */
export function countAttempt(p: Pointer): Pointer {
  if (!p.trial) return p;
  return { ...p, trial: { ...p.trial, attempts: p.trial.attempts + 1 } };
}

export function recordExit(p: Pointer, how: string): Pointer {
  if (!p.trial) return p;
  return { ...p, trial: { ...p.trial, lastExit: how } };
}

/** The trial release is ready and connected: it stays. Without a trial, nothing changes. */
export function confirmTrial(p: Pointer, now: number): Pointer {
  const t = p.trial;
  if (!t) return p;
  return {
    v: 1,
    active: t.slot,
    last: { kind: 'confirmed', version: t.version, fromVersion: t.from.version, at: now },
  };
}

/** The trial failed: the previous release is the active one again, and `last` keeps the reason. */
export function rollBack(p: Pointer, reason: string, now: number): Pointer {
  const t = p.trial;
  if (!t) return p;
  return {
    v: 1,
    active: t.from.slot,
    last: { kind: 'rolled_back', version: t.version, fromVersion: t.from.version, reason, at: now },
  };
}

/** A new release is being staged: the report of the previous update has been made by then. */
export function forgetLast(p: Pointer): Pointer {
  const { last: _last, ...rest } = p;
  return rest;
}

export function inactiveSlot(p: Pointer): SlotName {
  return otherSlot(p.active);
}
