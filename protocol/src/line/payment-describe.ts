import type { DialectDescription } from './describe';
import type { PaymentError, PaymentEventArgs, PaymentReplyArgs, PaymentVerb } from './payment';

/** The payment terminal dialect in words; typed against the codec and rendered into docs/protocol.md. */
export const PaymentDescription: DialectDescription<
  PaymentVerb,
  keyof typeof PaymentReplyArgs,
  keyof typeof PaymentEventArgs,
  PaymentError
> = {
  request: {
    PING: { args: '', reply: '(none)', errors: '' },
    AUTH: {
      args: 'amount cur ref',
      reply:
        'Waits for the card, then `txn state=authorized amount` or `txn state=declined reason` (a decline is an OK reply)',
      errors: 'TIMEOUT (no card in time), BAD_ARGS, BUSY',
    },
    CAPTURE: {
      args: 'txn [amount]',
      reply: '`txn state=captured amount`; capturing again answers the same OK',
      errors: 'NOT_FOUND, BAD_STATE',
    },
    VOID: { args: 'txn', reply: '`txn state=voided`', errors: 'NOT_FOUND, BAD_STATE (already captured)' },
    STATUS: {
      args: 'txn | ref',
      reply: '`txn state amount` of the transaction found by `txn` or by the agent reference `ref`',
      errors: 'NOT_FOUND',
    },
  },
  reply: {
    OK: { args: '[txn] [state] [amount] [reason]', reply: 'The request was served', errors: '' },
    ERR: {
      args: 'code [msg]',
      reply: 'The request failed; `code` is one of the payment error codes',
      errors: '',
    },
  },
  event: {
    READY: { args: 'model', reply: 'Sent at power-up and after the link is restored', errors: '' },
    CARD: { args: 'state (presented/removed)', reply: 'A card was presented or taken away', errors: '' },
  },
  errors: {
    TIMEOUT: 'No card was presented in time',
    NOT_FOUND: 'No transaction with that `txn` or `ref`',
    BAD_STATE: 'The transaction is in a state that forbids the request (e.g. void after capture)',
    BAD_ARGS: 'Arguments missing or malformed',
    BUSY: 'Another authorization is in progress',
    INTERNAL: 'Terminal error',
  },
};
