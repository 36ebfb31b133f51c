import type { BrewerFault, BrewerStatus, BrewerVerb } from '@crema/protocol';
import type { IdentityRefusal } from '../line/identity';

/** Raw bytes in and out: a serial port or a TCP serial gateway. The real ones hold no protocol logic. */
export interface Transport {
  readonly description: string;
  open(): Promise<void>;
  close(): Promise<void>;
  write(data: string): Promise<void>;
  onData(listener: (chunk: string) => void): void;
  /** Called when the link drops on its own (unplugged, gateway gone). */
  onClose(listener: (err?: Error) => void): void;
}

export type BrewerEvent =
  | { type: 'ready'; fw: string; model: string }
  | { type: 'progress'; op: string; pct: number }
  | { type: 'fault'; code: BrewerFault }
  | { type: 'clear'; code: BrewerFault }
  | { type: 'cup'; state: 'present' | 'removed' }
  | { type: 'door'; state: 'open' | 'closed' }
  | { type: 'link'; state: 'up' | 'down' };

export type BrewerRequestOptions = { timeoutMs?: number; signal?: AbortSignal };

/**
 * The brewer controller as the recipe engine sees it. `request` resolves with the OK reply's values and
 * rejects with an AgentError (BREWER_TIMEOUT, BREWER_DISCONNECTED, BREWER_REJECTED with the brewer's code
 * in `details`).
 */
export interface Brewer {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  /** Set while the link is refused because another brewer (by INFO serial/model) answers on it. */
  readonly refusal?: IdentityRefusal | undefined;
  request(
    verb: BrewerVerb,
    args?: Record<string, string | number | boolean>,
    options?: BrewerRequestOptions,
  ): Promise<Record<string, string>>;
  status(): Promise<BrewerStatus>;
  onEvent(listener: (event: BrewerEvent) => void): () => void;
}
