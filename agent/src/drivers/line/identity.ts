import type { Frame } from '@crema/protocol';

/** Who a line device says it is. Two devices of one model differ by serial. */
export type DeviceIdentity = { serial: string; model: string };

/**
 * How a LineClient asks the device who it is each time the link opens, before anything else is sent or any
 * event is passed on. The first answer pins the identity (unless `expected` pins it already); a later link
 * to another device is refused, because a cable moved to the wrong port, or a board swapped without a
 * technician, must not receive orders meant for the machine the agent knows.
 */
export type IdentityCheck = {
  verb: string;
  /** The identity in an OK reply; `undefined` when the reply does not carry one. */
  parse: (reply: Frame) => DeviceIdentity | undefined;
  /** Pinned identity from configuration or an earlier run. */
  expected?: DeviceIdentity;
  /** Told once, when the first device seen is pinned (to remember it for the next run). */
  onPinned?: (identity: DeviceIdentity) => void;
};

/** Where a driver keeps the identity it pinned, across agent restarts. */
export type IdentityMemory = {
  load(): DeviceIdentity | undefined;
  save(identity: DeviceIdentity): void;
};

/** Why a link was refused, as kept for health reports. */
export type IdentityRefusal = { expected: DeviceIdentity; found: DeviceIdentity; at: number };

export function sameDevice(a: DeviceIdentity, b: DeviceIdentity): boolean {
  return a.serial === b.serial && a.model === b.model;
}

export function describeIdentity(id: DeviceIdentity): string {
  return `${id.model} serial ${id.serial}`;
}

/** The usual INFO reply: `OK serial=… model=…` (other values ignored). */
export function identityFromInfo(reply: Frame): DeviceIdentity | undefined {
  if (reply.verb !== 'OK') return undefined;
  const { serial, model } = reply.args;
  if (!serial || !model) return undefined;
  return { serial, model };
}

/** A stored identity read back, or undefined when it is not one (a damaged setting pins nothing). */
export function asIdentity(value: unknown): DeviceIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { serial, model } = value as Record<string, unknown>;
  return typeof serial === 'string' && serial !== '' && typeof model === 'string' && model !== ''
    ? { serial, model }
    : undefined;
}
