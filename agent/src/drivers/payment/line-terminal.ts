import { PaymentDialect, type PaymentError } from '@crema/protocol';
import { AgentError } from '../../errors';
import type { Logger } from '../../log/logger';
import { LineClient, type LinkState } from '../line/client';
import { LineDevice, type LineDeviceOptions } from '../line/device';
import type { PaymentOutcome, PaymentTerminal } from './types';

export type LinePaymentTerminalOptions = LineDeviceOptions & {
  /** How long AUTH may wait for the customer's card. */
  authTimeoutMs?: number;
};

/**
 * The card terminal over its line protocol. Only PING and STATUS are retried on their own: a capture or
 * void whose reply was lost is settled by asking STATUS, never by sending it again blindly.
 */
export class LinePaymentTerminal extends LineDevice implements PaymentTerminal {
  private readonly authTimeoutMs: number;
  private readonly log: Logger;

  constructor(options: LinePaymentTerminalOptions) {
    const log = options.logger.child({ ns: 'agent:payment' });
    super(
      new LineClient({
        name: 'payment terminal',
        transport: options.transport,
        dialect: PaymentDialect,
        clock: options.clock,
        logger: log,
        idempotentVerbs: ['PING', 'STATUS'],
        errors: { timeout: 'PAYMENT_TIMEOUT', disconnected: 'PAYMENT_TIMEOUT' },
        requestTimeoutMs: options.requestTimeoutMs ?? 5000,
        backoff: options.backoff,
        watchdog: options.watchdog ?? { idleMs: 15_000, deadMs: 45_000 },
      }),
    );
    this.log = log;
    this.authTimeoutMs = options.authTimeoutMs ?? 45_000;
  }

  onLink(listener: (state: LinkState) => void): () => void {
    return this.client.onLink(listener);
  }

  authorize(
    amount: number,
    currency: string,
    ref: string,
    options: { timeoutMs?: number } = {},
  ): Promise<PaymentOutcome> {
    return this.call('AUTH', { amount, cur: currency, ref }, options.timeoutMs ?? this.authTimeoutMs);
  }

  async capture(txn: string, amount?: number): Promise<PaymentOutcome> {
    return this.settle('CAPTURE', txn, { txn, amount }, 'captured');
  }

  async void(txn: string): Promise<PaymentOutcome> {
    return this.settle('VOID', txn, { txn }, 'voided');
  }

  async status(query: { txn?: string; ref?: string }): Promise<PaymentOutcome | undefined> {
    try {
      return await this.call('STATUS', { txn: query.txn, ref: query.ref });
    } catch (err) {
      if (err instanceof AgentError && (err.details as { code?: string })?.code === 'NOT_FOUND')
        return undefined;
      throw err;
    }
  }

  /** CAPTURE/VOID once; if the reply is lost, STATUS tells whether it took effect. */
  private async settle(
    verb: 'CAPTURE' | 'VOID',
    txn: string,
    args: Record<string, unknown>,
    expected: 'captured' | 'voided',
  ): Promise<PaymentOutcome> {
    try {
      return await this.call(verb, args);
    } catch (err) {
      if (!(err instanceof AgentError) || err.code !== 'PAYMENT_TIMEOUT') throw err;
      this.log.warn({ txn, verb }, 'no reply; asking the terminal for the transaction state');
      const known = await this.status({ txn });
      if (known?.state === expected) return known;
      throw new AgentError(
        'PAYMENT_TIMEOUT',
        `${verb} of ${txn} unconfirmed (terminal says ${known?.state ?? 'unknown'})`,
        {
          cause: err,
          details: { txn, state: known?.state },
        },
      );
    }
  }

  private async call(
    verb: string,
    args: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<PaymentOutcome> {
    const reply = await this.client.request(verb, args, { timeoutMs });
    const a = reply.args as {
      txn?: string;
      state?: PaymentOutcome['state'];
      amount?: number;
      reason?: string;
      code?: PaymentError;
      msg?: string;
    };
    if (reply.verb === 'ERR') {
      if (a.code === 'TIMEOUT') {
        throw new AgentError('PAYMENT_TIMEOUT', `payment terminal: ${verb} timed out waiting for the card`, {
          details: { code: a.code },
        });
      }
      throw new AgentError(
        'PAYMENT_FAILED',
        `payment terminal refused ${verb}: ${a.code}${a.msg ? ` (${a.msg})` : ''}`,
        {
          details: { code: a.code, msg: a.msg },
        },
      );
    }
    if (!a.txn || !a.state) {
      throw new AgentError('PAYMENT_FAILED', `payment terminal: ${verb} reply lacks txn or state`);
    }
    const out: PaymentOutcome = { txn: a.txn, state: a.state };
    if (a.amount !== undefined) out.amount = a.amount;
    if (a.reason !== undefined) out.reason = a.reason;
    return out;
  }
}
