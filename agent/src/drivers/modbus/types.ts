import type { BoardName, RegisterKey } from '@crema/protocol';

export type BoardHealth = {
  board: BoardName;
  state: 'closed' | 'open' | 'half_open';
  /** False from the moment the circuit opens until a probe succeeds (half-open is still offline). */
  online: boolean;
  failures: number;
  lastOkAt?: number;
};

/** Latest values read from the auxiliary boards, by register key, with when each board was last read. */
export type AuxSnapshot = {
  values: Partial<Record<RegisterKey, number>>;
  readAt: Partial<Record<BoardName, number>>;
  health: BoardHealth[];
};

/**
 * Auxiliary boards over Modbus, polled on a schedule. A dead board opens its circuit breaker and is skipped
 * until a probe succeeds, so it never stalls the others.
 */
export interface AuxBoards {
  start(): Promise<void>;
  stop(): Promise<void>;
  snapshot(): AuxSnapshot;
  write(key: RegisterKey, value: number | boolean): Promise<void>;
  onUpdate(listener: (snapshot: AuxSnapshot) => void): () => void;
}
