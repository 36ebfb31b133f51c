import type { PaymentTxnState } from '@crema/protocol';

export type Transaction = {
  txn: string;
  ref: string;
  amount: number;
  currency: string;
  state: PaymentTxnState;
  reason?: string;
  capturedAmount?: number;
  createdAt: number;
  updatedAt: number;
};

export type OrderPayments = {
  ref: string;
  txns: Transaction[];
  /** CAPTURE requests received for this order's transactions (a repeat counts too). */
  captureRequests: number;
  voidRequests: number;
  captured: number;
  voided: number;
};

/**
 * The terminal's own memory of transactions. It lives as long as the simulator process, so it survives a restart
 * of the agent, as a real terminal would.
 */
export class PaymentLedger {
  private readonly byTxn = new Map<string, Transaction>();
  private readonly byRef = new Map<
    string,
    { txns: string[]; captureRequests: number; voidRequests: number }
  >();

  add(t: Transaction): void {
    this.byTxn.set(t.txn, t);
    const entry = this.byRef.get(t.ref) ?? { txns: [], captureRequests: 0, voidRequests: 0 };
    entry.txns.push(t.txn);
    this.byRef.set(t.ref, entry);
  }

  get(txn: string): Transaction | undefined {
    return this.byTxn.get(txn);
  }

  /** The latest transaction made for an order reference. */
  latestFor(ref: string): Transaction | undefined {
    const id = this.byRef.get(ref)?.txns.at(-1);
    return id === undefined ? undefined : this.byTxn.get(id);
  }

  countCapture(t: Transaction): void {
    const e = this.byRef.get(t.ref);
    if (e) e.captureRequests += 1;
  }

  countVoid(t: Transaction): void {
    const e = this.byRef.get(t.ref);
    if (e) e.voidRequests += 1;
  }

  orders(): OrderPayments[] {
    return [...this.byRef].map(([ref, e]) => {
      const txns = e.txns.map((id) => this.byTxn.get(id)).filter((t): t is Transaction => t !== undefined);
      return {
        ref,
        txns: txns.map((t) => ({ ...t })),
        captureRequests: e.captureRequests,
        voidRequests: e.voidRequests,
        captured: txns.filter((t) => t.state === 'captured').length,
        voided: txns.filter((t) => t.state === 'voided').length,
      };
    });
  }

  get size(): number {
    return this.byTxn.size;
  }
}
