import { BrewerFaultSchema } from '@crema/protocol';
import { z } from 'zod';
import { SimError } from '../errors';

const link = z.enum(['brewer', 'payment', 'all']).default('brewer');
const unit = z.coerce.number().int().min(1).max(247).optional();
const none = z.object({}).strict();

/**
 * Every fault that can be injected while the machine runs, with the schema of its parameters.
 * Machine faults are the brewer's own codes; the others act on a port or on the payment terminal.
 */
export const FaultParamSchemas = {
  ...(Object.fromEntries(BrewerFaultSchema.options.map((f) => [f, none])) as Record<
    z.infer<typeof BrewerFaultSchema>,
    typeof none
  >),
  /** Replies on the line carry a wrong checksum. */
  serial_corrupt: z.object({ link }).strict(),
  /** Random bytes (and a broken line) are written before each reply. */
  serial_garbage: z.object({ link }).strict(),
  /** Every reply is held back for `ms` of simulated time. */
  serial_slow: z.object({ link, ms: z.coerce.number().int().min(1).max(600_000).default(2000) }).strict(),
  /** AUTH answers `OK state=declined reason=<reason>`. */
  payment_decline: z
    .object({
      reason: z
        .string()
        .regex(/^[a-z_]{1,32}$/)
        .default('insufficient_funds'),
    })
    .strict(),
  /** No card is presented: AUTH ends with `ERR code=TIMEOUT` after the card wait. */
  payment_no_card: none,
  /** The terminal hangs: requests get no answer at all. */
  payment_timeout: none,
  /** The board(s) do not answer (all boards unless `unit` is given). */
  modbus_timeout: z.object({ unit }).strict(),
  /** The board(s) answer every request with exception `code` (default 4, server device failure). */
  modbus_exception: z.object({ unit, code: z.coerce.number().int().min(1).max(11).default(4) }).strict(),
  /** The port closes (pty removed, TCP connections reset) until the fault is cleared. */
  brewer_link_down: none,
  payment_link_down: none,
  modbus_link_down: none,
} as const;

export type FaultName = keyof typeof FaultParamSchemas;
export type FaultParams<N extends FaultName> = z.infer<(typeof FaultParamSchemas)[N]>;
export const FAULT_NAMES = Object.keys(FaultParamSchemas) as FaultName[];

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FaultParamSchemas, name);
}

export type FaultChange = { name: FaultName; active: boolean; params: Record<string, unknown> };

/** The set of injected faults; parts of the machine read it and listen for changes. */
export class FaultRegistry {
  private readonly active = new Map<FaultName, Record<string, unknown>>();
  private readonly listeners = new Set<(change: FaultChange) => void>();

  /** Validates the parameters and activates the fault (re-injecting replaces its parameters). */
  inject(name: string, params: Record<string, unknown> = {}): FaultChange {
    if (!isFaultName(name))
      throw new SimError('NOT_FOUND', `unknown fault '${name}'`, { details: { known: FAULT_NAMES } });
    const parsed = FaultParamSchemas[name].safeParse(params);
    if (!parsed.success) {
      throw new SimError(
        'VALIDATION_FAILED',
        `${name}: ${parsed.error.issues[0]?.message ?? 'bad parameters'}`,
      );
    }
    const value = parsed.data as Record<string, unknown>;
    this.active.set(name, value);
    const change = { name, active: true, params: value };
    this.emit(change);
    return change;
  }

  clear(name: string): FaultChange {
    if (!isFaultName(name))
      throw new SimError('NOT_FOUND', `unknown fault '${name}'`, { details: { known: FAULT_NAMES } });
    const params = this.active.get(name) ?? {};
    const was = this.active.delete(name);
    const change = { name, active: false, params };
    if (was) this.emit(change);
    return change;
  }

  isActive(name: FaultName): boolean {
    return this.active.has(name);
  }

  params<N extends FaultName>(name: N): FaultParams<N> | undefined {
    return this.active.get(name) as FaultParams<N> | undefined;
  }

  list(): Array<{ name: FaultName; params: Record<string, unknown> }> {
    return [...this.active].map(([name, params]) => ({ name, params }));
  }

  onChange(listener: (change: FaultChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: FaultChange): void {
    for (const l of this.listeners) l(change);
  }
}
