import type { Frame, PaymentRequestArgs, Random } from '@crema/protocol';
import type { z } from 'zod';
import type { LinePort } from '../link/line-port';
import type { Logger } from '../log';
import type { FaultRegistry } from '../model/faults';
import { type Clock, sleep } from '../time/clock';
import type { PaymentLedger, Transaction } from './ledger';

type Args<V extends keyof typeof PaymentRequestArgs> = z.infer<(typeof PaymentRequestArgs)[V]>;
type Reply = { verb: 'OK' | 'ERR'; args: Record<string, string | number> };

export type TerminalTiming = {
  /** Time until the customer taps a card, before jitter. */
  cardDelayMs: number;
  /** How long AUTH waits for a card before ERR TIMEOUT. */
  cardWaitMs: number;
};

export const DEFAULT_TIMING: TerminalTiming = { cardDelayMs: 1500, cardWaitMs: 30_000 };

/**
 * The card terminal: AUTH waits for a card and authorizes (or declines), CAPTURE and VOID settle, STATUS finds a
 * transaction by id or by the agent's reference. Transactions live in the ledger, independent of any connection.
 */
export class PaymentTerminal {
  private readonly ports = new Set<LinePort>();
  private authorizing = false;
  private seq = 0;

  constructor(
    private readonly ledger: PaymentLedger,
    private readonly faults: FaultRegistry,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly model: string,
    private readonly logger: Logger,
    private readonly timing: TerminalTiming = DEFAULT_TIMING,
  ) {}

  attach(port: LinePort): void {
    this.ports.add(port);
    port.start({
      onRequest: (frame) => void this.handle(port, frame),
      onBadRequest: (id, error) =>
        port.reply(id, 'ERR', { code: 'BAD_ARGS', msg: error.message.slice(0, 90) }),
      onClose: () => this.ports.delete(port),
    });
    port.event('READY', { model: this.model });
    this.logger.info({ port: port.description }, 'payment link up');
  }

  stop(): void {
    for (const p of this.ports) p.close();
    this.ports.clear();
  }

  private async handle(port: LinePort, frame: Frame): Promise<void> {
    // A hung terminal reads the request and never answers.
    if (this.faults.isActive('payment_timeout')) return;
    const reply = await this.execute(frame);
    if (this.faults.isActive('payment_timeout')) return;
    port.reply(frame.id, reply.verb, reply.args);
    this.logger.debug({ verb: frame.verb, id: frame.id, reply: reply.verb }, 'payment request');
  }

  private execute(frame: Frame): Promise<Reply> | Reply {
    const a = frame.args as Record<string, unknown>;
    switch (frame.verb) {
      case 'PING':
        return { verb: 'OK', args: {} };
      case 'AUTH':
        return this.authorize(a as Args<'AUTH'>);
      case 'CAPTURE':
        return this.capture(a as Args<'CAPTURE'>);
      case 'VOID':
        return this.void(a as Args<'VOID'>);
      case 'STATUS': {
        const q = a as Args<'STATUS'>;
        const t = q.txn !== undefined ? this.ledger.get(q.txn) : this.ledger.latestFor(q.ref ?? '');
        return t ? okTxn(t) : err('NOT_FOUND');
      }
      default:
        return err('BAD_ARGS');
    }
  }

  private async authorize(a: Args<'AUTH'>): Promise<Reply> {
    if (this.authorizing) return err('BUSY');
    this.authorizing = true;
    const now = this.clock.now();
    const t: Transaction = {
      txn: this.nextTxnId(),
      ref: a.ref,
      amount: a.amount,
      currency: a.cur,
      state: 'pending',
      createdAt: now,
      updatedAt: now,
    };
    this.ledger.add(t);
    try {
      if (this.faults.isActive('payment_no_card')) {
        await sleep(this.clock, this.timing.cardWaitMs);
        settle(t, 'declined', this.clock.now(), 'no_card');
        return err('TIMEOUT');
      }
      await sleep(this.clock, this.timing.cardDelayMs * (0.7 + 0.6 * this.random.next()));
      this.broadcast('CARD', { state: 'presented' });
      const decline = this.faults.params('payment_decline');
      if (decline) settle(t, 'declined', this.clock.now(), decline.reason);
      else settle(t, 'authorized', this.clock.now());
      this.broadcast('CARD', { state: 'removed' });
      return okTxn(t);
    } finally {
      this.authorizing = false;
    }
  }

  private capture(a: Args<'CAPTURE'>): Reply {
    const t = this.ledger.get(a.txn);
    if (!t) return err('NOT_FOUND');
    this.ledger.countCapture(t);
    if (t.state === 'captured') return okTxn(t);
    if (t.state !== 'authorized') return err('BAD_STATE', `txn is ${t.state}`);
    if (a.amount !== undefined && a.amount > t.amount) return err('BAD_ARGS', 'amount exceeds authorization');
    t.capturedAmount = a.amount ?? t.amount;
    settle(t, 'captured', this.clock.now());
    return okTxn(t);
  }

  private void(a: Args<'VOID'>): Reply {
    const t = this.ledger.get(a.txn);
    if (!t) return err('NOT_FOUND');
    this.ledger.countVoid(t);
    if (t.state === 'voided') return okTxn(t);
    if (t.state !== 'authorized') return err('BAD_STATE', `txn is ${t.state}`);
    settle(t, 'voided', this.clock.now());
    return okTxn(t);
  }

  private broadcast(verb: string, args: Record<string, string>): void {
    for (const p of this.ports) p.event(verb, args);
  }

  private nextTxnId(): string {
    this.seq += 1;
    const tag = Math.floor(this.random.next() * 0x10000)
      .toString(16)
      .toUpperCase()
      .padStart(4, '0');
    return `T${String(this.seq).padStart(6, '0')}-${tag}`;
  }
}

function settle(t: Transaction, state: Transaction['state'], at: number, reason?: string): void {
  t.state = state;
  t.updatedAt = at;
  if (reason !== undefined) t.reason = reason;
}

function okTxn(t: Transaction): Reply {
  const args: Record<string, string | number> = {
    txn: t.txn,
    state: t.state,
    amount: t.capturedAmount ?? t.amount,
  };
  if (t.reason !== undefined) args.reason = t.reason;
  return { verb: 'OK', args };
}

function err(code: string, msg?: string): Reply {
  return { verb: 'ERR', args: msg ? { code, msg: msg.replace(/ /g, '_') } : { code } };
}
