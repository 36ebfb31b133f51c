import type { PaymentTerminal } from '../drivers/payment/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { OrderLedger } from './ledger';
import type { Order } from './types';

export type SettlementOptions = {
  ledger: OrderLedger;
  terminal: PaymentTerminal;
  logger: Logger;
  now: () => number;
  /** How long an authorization the terminal does not know yet may still appear (the card wait). */
  authWindowMs: number;
};

/**
 * Finishes the money side of an order, always in the customer's favour. Every call first records the state
 * it acts on; an outcome it cannot confirm leaves the order open for the next reconcile round, which asks the
 * terminal's STATUS before acting again, so no capture is ever sent twice blindly.
 */
export class Settlement {
  private readonly log: Logger;

  constructor(private readonly o: SettlementOptions) {
    this.log = o.logger.child({ ns: 'agent:settlement' });
  }

  /**
   * Brings one open order (not in flight) to its end, or as far as the terminal allows now. `failure`: why the
   * order stopped, when it is known but was not recorded (a storage fault), so it is recorded with that code.
   */
  async resolve(order: Order, failure?: { code: string; reason: string }): Promise<Order> {
    switch (order.state) {
      case 'authorizing':
        if (failure) return this.fail(order, failure.code, failure.reason);
        return this.fail(order, 'INTERNAL', 'the agent stopped while the payment was being authorized');
      case 'brewing':
        if (failure) return this.fail(order, failure.code, failure.reason);
        return this.fail(order, 'BREW_FAILED', 'the agent stopped before the drink was confirmed dispensed');
      case 'capturing':
        return this.finishCapture(order);
      case 'voiding':
        return this.finishVoid(order);
      case 'completed':
      case 'failed':
        return order;
    }
  }

  /** The drink was dispensed and `capturing` is recorded: send CAPTURE once. */
  async capture(order: Order): Promise<Order> {
    const txn = order.payment?.txn;
    if (!txn) throw new AgentError('INTERNAL', `order ${order.id} has no transaction to capture`);
    let outcome: Awaited<ReturnType<PaymentTerminal['capture']>>;
    try {
      outcome = await this.o.terminal.capture(txn, order.amount);
    } catch (err) {
      this.log.warn(
        { orderId: order.id, err: AgentError.from(err).message },
        'capture unconfirmed; will ask STATUS',
      );
      return this.ledger.transition(order.id, { payment: { attempt: true, lastError: errText(err) } });
    }
    if (outcome.state === 'captured') return this.completeCaptured(order);
    this.log.error({ orderId: order.id, state: outcome.state }, 'capture answered an unexpected state');
    return this.ledger.transition(order.id, {
      payment: { attempt: true, lastError: `capture: ${outcome.state}` },
    });
  }

  /**
   * `noAuth`: the terminal answered that no authorization happened (no card in time).
   * Records the failure (`voiding` plus the order's failed record), then voids. Orders without a card payment
   * simply fail.
   */
  async fail(order: Order, code: string, reason: string, options: { noAuth?: boolean } = {}): Promise<Order> {
    if (!order.payment) {
      return this.ledger.transition(order.id, { state: 'failed', code, reason }, { order: ['failed'] });
    }
    const voiding = this.ledger.transition(
      order.id,
      { state: 'voiding', code, reason, payment: { state: options.noAuth ? 'none' : 'voiding' } },
      { order: ['failed'] },
    );
    return this.finishVoid(voiding);
  }

  /**
   * Voids the order's authorization without recording anything (the store refuses writes): the hold must not
   * stay on the card for the whole outage. The next reconcile round finds it voided and records that.
   */
  async voidUnrecorded(order: Order): Promise<void> {
    const known = await this.lookup(
      order,
      order.payment?.txn ? { txn: order.payment.txn } : { ref: order.id },
    );
    if (known === 'unreachable' || known?.state !== 'authorized') return;
    try {
      await this.o.terminal.void(known.txn);
      this.log.warn(
        { orderId: order.id, txn: known.txn },
        'authorization voided; recorded once the store works',
      );
    } catch (err) {
      this.log.warn(
        { orderId: order.id, err: errText(err) },
        'unrecorded void not confirmed; retried by reconcile',
      );
    }
  }

  private get ledger(): OrderLedger {
    return this.o.ledger;
  }

  private async finishCapture(order: Order): Promise<Order> {
    const txn = order.payment?.txn;
    if (!order.dispensedAt || !txn) {
      // Never capture without a confirmed dispense: such an order can only be voided.
      return this.fail(order, 'BREW_FAILED', 'no confirmed dispense');
    }
    const known = await this.lookup(order, { txn });
    if (known === 'unreachable') return order;
    switch (known?.state) {
      case 'captured':
        return this.completeCaptured(order);
      case 'authorized':
        return this.capture(order);
      default:
        this.log.error(
          { orderId: order.id, state: known?.state },
          'cannot capture: the terminal lost the authorization',
        );
        return this.ledger.transition(
          order.id,
          {
            state: 'failed',
            code: 'PAYMENT_FAILED',
            reason: `authorization ${known?.state ?? 'unknown to the terminal'} at capture`,
            payment: { state: known?.state === 'voided' ? 'voided' : 'none' },
          },
          { order: ['failed'], ...(known?.state === 'voided' ? { payment: 'voided' as const } : {}) },
        );
    }
  }

  private async finishVoid(order: Order): Promise<Order> {
    const txn = order.payment?.txn;
    const known = await this.lookup(order, txn ? { txn } : { ref: order.id });
    if (known === 'unreachable') return order;
    switch (known?.state) {
      case 'authorized':
        return this.sendVoid(order, known.txn);
      case 'voided':
        return this.ledger.transition(
          order.id,
          { state: 'failed', payment: { state: 'voided', txn: known.txn } },
          { payment: 'voided' },
        );
      case 'declined':
        return this.ledger.transition(
          order.id,
          { state: 'failed', payment: { state: 'declined', txn: known.txn } },
          { payment: 'declined' },
        );
      case 'captured':
        // Only possible if someone else captured it; recorded as it is so that finance can refund.
        this.log.error({ orderId: order.id, txn: known.txn }, 'transaction to void was captured elsewhere');
        return this.ledger.transition(
          order.id,
          { state: 'failed', payment: { state: 'captured', txn: known.txn } },
          { payment: 'captured' },
        );
      default: {
        // Unknown to the terminal: an AUTH may still be waiting for the card, so only give up after the window.
        // Payment state `none` here means the terminal itself said no card came.
        const age = this.o.now() - order.createdAt;
        if (!txn && order.payment?.state !== 'none' && age < this.o.authWindowMs) return order;
        return this.ledger.transition(order.id, { state: 'failed', payment: { state: 'none' } });
      }
    }
  }

  private async sendVoid(order: Order, txn: string): Promise<Order> {
    const withTxn = order.payment?.txn ? order : this.ledger.transition(order.id, { payment: { txn } });
    try {
      const outcome = await this.o.terminal.void(txn);
      if (outcome.state === 'voided') {
        return this.ledger.transition(
          order.id,
          { state: 'failed', payment: { state: 'voided', attempt: true } },
          { payment: 'voided' },
        );
      }
      return this.ledger.transition(order.id, {
        payment: { attempt: true, lastError: `void: ${outcome.state}` },
      });
    } catch (err) {
      this.log.warn({ orderId: order.id, err: errText(err) }, 'void not confirmed; queued for retry');
      return this.ledger.transition(withTxn.id, { payment: { attempt: true, lastError: errText(err) } });
    }
  }

  private completeCaptured(order: Order): Order {
    return this.ledger.transition(
      order.id,
      { state: 'completed', payment: { state: 'captured' } },
      { payment: 'captured', order: ['completed'] },
    );
  }

  private async lookup(order: Order, query: { txn?: string; ref?: string }) {
    try {
      return await this.o.terminal.status(query);
    } catch (err) {
      this.log.warn({ orderId: order.id, err: errText(err) }, 'payment terminal unreachable; will retry');
      return 'unreachable' as const;
    }
  }
}

function errText(err: unknown): string {
  return AgentError.from(err).message.slice(0, 200);
}
