import type { PaymentTxnState } from '@crema/protocol';

export type PaymentOutcome = { txn: string; state: PaymentTxnState; amount?: number; reason?: string };

/**
 * The card terminal. Declines resolve with state `declined`; a terminal that does not answer rejects with
 * AgentError PAYMENT_TIMEOUT; other terminal errors reject with PAYMENT_FAILED.
 */
export interface PaymentTerminal {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  authorize(
    amount: number,
    currency: string,
    ref: string,
    options?: { timeoutMs?: number },
  ): Promise<PaymentOutcome>;
  capture(txn: string, amount?: number): Promise<PaymentOutcome>;
  void(txn: string): Promise<PaymentOutcome>;
  /** Finds a transaction by its id or by the agent's reference (order id); state `pending` if unknown. */
  status(query: { txn?: string; ref?: string }): Promise<PaymentOutcome | undefined>;
}
