import type { PaymentOutcome, PaymentTerminal } from '../../../src/drivers/payment/types';
import { AgentError } from '../../../src/errors';

type Txn = { txn: string; ref: string; amount: number; state: PaymentOutcome['state']; captures: number };

/**
 * A card terminal in memory for unit tests. `auth` scripts the next authorizations; `unreachable` makes every
 * call time out; `loseReplies` performs a request but loses its answer (the case recovery must settle).
 */
export class FakePaymentTerminal implements PaymentTerminal {
  readonly txns = new Map<string, Txn>();
  readonly calls: string[] = [];
  auth: 'approve' | 'decline' | 'no_card' = 'approve';
  unreachable = false;
  loseReplies: { auth?: boolean; capture?: boolean; void?: boolean } = {};
  /** When set, AUTH waits for this promise (a customer slow to present the card). */
  authGate: Promise<void> | undefined;
  connected = true;
  private next = 1;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async authorize(amount: number, _currency: string, ref: string): Promise<PaymentOutcome> {
    this.calls.push(`AUTH ${ref}`);
    this.reachable();
    await this.authGate;
    if (this.auth === 'no_card') {
      throw new AgentError('PAYMENT_TIMEOUT', 'no card', { details: { code: 'TIMEOUT' } });
    }
    const txn = `T${this.next++}`;
    const state = this.auth === 'approve' ? 'authorized' : 'declined';
    this.txns.set(txn, { txn, ref, amount, state, captures: 0 });
    if (this.loseReplies.auth) throw new AgentError('PAYMENT_TIMEOUT', 'reply lost');
    return state === 'declined' ? { txn, state, reason: 'insufficient_funds' } : { txn, state, amount };
  }

  async capture(txn: string, amount?: number): Promise<PaymentOutcome> {
    this.calls.push(`CAPTURE ${txn}`);
    this.reachable();
    const t = this.must(txn);
    if (t.state !== 'authorized' && t.state !== 'captured') throw this.badState(t);
    t.state = 'captured';
    t.captures += 1;
    if (amount !== undefined) t.amount = amount;
    if (this.loseReplies.capture) throw new AgentError('PAYMENT_TIMEOUT', 'reply lost');
    return { txn, state: 'captured', amount: t.amount };
  }

  async void(txn: string): Promise<PaymentOutcome> {
    this.calls.push(`VOID ${txn}`);
    this.reachable();
    const t = this.must(txn);
    if (t.state !== 'authorized' && t.state !== 'voided') throw this.badState(t);
    t.state = 'voided';
    if (this.loseReplies.void) throw new AgentError('PAYMENT_TIMEOUT', 'reply lost');
    return { txn, state: 'voided' };
  }

  async status(query: { txn?: string; ref?: string }): Promise<PaymentOutcome | undefined> {
    this.calls.push(`STATUS ${query.txn ?? query.ref}`);
    this.reachable();
    const t = query.txn ? this.txns.get(query.txn) : [...this.txns.values()].find((x) => x.ref === query.ref);
    return t ? { txn: t.txn, state: t.state, amount: t.amount } : undefined;
  }

  byRef(ref: string): Txn | undefined {
    return [...this.txns.values()].find((t) => t.ref === ref);
  }

  private reachable(): void {
    if (this.unreachable) throw new AgentError('PAYMENT_TIMEOUT', 'payment terminal did not answer');
  }

  private must(txn: string): Txn {
    const t = this.txns.get(txn);
    if (!t) throw new AgentError('PAYMENT_FAILED', `unknown txn ${txn}`, { details: { code: 'NOT_FOUND' } });
    return t;
  }

  private badState(t: Txn): AgentError {
    return new AgentError('PAYMENT_FAILED', `txn ${t.txn} is ${t.state}`, { details: { code: 'BAD_STATE' } });
  }
}
