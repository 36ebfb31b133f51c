import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isErrorCode, ProtocolError } from '../errors';
import {
  BrewerDialect,
  BrewerErrorSchema,
  BrewerFaultSchema,
  BrewerRequestArgs,
  type BrewerVerb,
} from './brewer';
import { type Dialect, decodeFrame, encodeFrame, type Frame, type FrameKind, LineSplitter } from './frame';
import { PaymentDialect, PaymentErrorSchema, PaymentTxnStateSchema, type PaymentVerb } from './payment';

/** An argument as it travels (string) and as the decoder must hand it back (typed). */
type Arg = fc.Arbitrary<[string, unknown]>;
type Args = fc.Arbitrary<{ raw: Record<string, string>; typed: Record<string, unknown> }>;

const num: Arg = fc
  .oneof(fc.integer({ min: -100_000, max: 100_000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }))
  .map((n) => n + 0) // no negative zero: "-0" is not what a device sends
  .map((n) => [String(n), n]);
const amount: Arg = fc.integer({ min: 0, max: 100_000_000 }).map((n) => [String(n), n]);
const flag: Arg = fc.boolean().map((b) => [b ? '1' : '0', b]);
const oneOf = (values: readonly string[]): Arg => fc.constantFrom(...values).map((v) => [v, v]);
/** Any valid Unicode text, including characters that must be percent-encoded. */
const text = (min: number, max: number): Arg =>
  fc
    .oneof(
      fc.string({ minLength: min, maxLength: max }),
      fc.string({ unit: 'grapheme', minLength: min, maxLength: max }),
    )
    .map((s) => [s, s]);

function args(required: Record<string, Arg>, optional: Record<string, Arg> = {}): Args {
  return fc.record({ ...required, ...optional }, { requiredKeys: Object.keys(required) }).map((rec) => {
    const entries = Object.entries(rec as Record<string, [string, unknown]>);
    return {
      raw: Object.fromEntries(entries.map(([k, [r]]) => [k, r])),
      typed: Object.fromEntries(entries.map(([k, [, t]]) => [k, t])),
    };
  });
}

const none = args({});
const slot = oneOf(['a', 'b']);
const hexOf = (minBytes: number, maxBytes: number): Arg =>
  fc
    .uint8Array({ minLength: minBytes, maxLength: maxBytes })
    .map((b) => Buffer.from(b).toString('hex'))
    .map((h) => [h, h]);
const sha = hexOf(32, 32);
const statusValues: Args = fc
  .dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), fc.string({ maxLength: 20 }), { maxKeys: 5 })
  .map((d) => ({ raw: d, typed: d }));

const brewer: Record<FrameKind, Record<string, Args>> = {
  request: {
    PING: none,
    INFO: none,
    STATUS: none,
    HEAT: args({ temp_c: num }),
    CUP: none,
    GRIND: args({ g: num }),
    PREINFUSE: args({ ms: num }),
    BREW: args({ ml: num, temp_c: num, bar: num }),
    MILK: args({ ml: num, temp_c: num, foam: flag }),
    WATER: args({ ml: num }),
    DOSE: args({ bin: num, amt: num }),
    DISPENSE: none,
    STOP: none,
    RINSE: args({ cycles: num }),
    DESCALE: none,
    RESET: none,
    BOOTLOADER: none,
    FLASH: args({ slot, off: amount, data: hexOf(1, 48), crc: hexOf(2, 2) }),
    VERIFY: args({ slot, size: fc.integer({ min: 1, max: 1e8 }).map((n) => [String(n), n]), sha256: sha }),
    ACTIVATE: args({ slot }),
    REBOOT: none,
    SLOTS: none,
    CONFIRM: none,
  } satisfies Record<BrewerVerb, Args>,
  reply: {
    OK: statusValues,
    ERR: args(
      { code: oneOf(BrewerErrorSchema.options) },
      { fault: oneOf(BrewerFaultSchema.options), msg: text(0, 30) },
    ),
  },
  event: {
    READY: args({ fw: text(0, 20), model: text(0, 20) }),
    PROGRESS: args({ op: oneOf(Object.keys(BrewerRequestArgs)), pct: num }),
    FAULT: args({ code: oneOf(BrewerFaultSchema.options) }),
    CLEAR: args({ code: oneOf(BrewerFaultSchema.options) }),
    CUP: args({ state: oneOf(['present', 'removed']) }),
    DOOR: args({ state: oneOf(['open', 'closed']) }),
  },
};

const txn = text(1, 20);
const payment: Record<FrameKind, Record<string, Args>> = {
  request: {
    PING: none,
    AUTH: args({ amount, cur: oneOf(['EUR', 'USD', 'CHF']), ref: text(1, 30) }),
    CAPTURE: args({ txn }, { amount }),
    VOID: args({ txn }),
    STATUS: fc.oneof(args({ txn }, { ref: text(1, 20) }), args({ ref: text(1, 20) })),
  } satisfies Record<PaymentVerb, Args>,
  reply: {
    OK: args({}, { txn, state: oneOf(PaymentTxnStateSchema.options), amount, reason: text(0, 30) }),
    ERR: args({ code: oneOf(PaymentErrorSchema.options) }, { msg: text(0, 30) }),
  },
  event: {
    READY: args({ model: text(0, 20) }),
    CARD: args({ state: oneOf(['presented', 'removed']) }),
  },
};

const encodable = (frame: Frame) => {
  try {
    encodeFrame(frame);
    return true;
  } catch {
    return false;
  }
};

/** Frames of a dialect the encoder accepts, with the typed arguments the decoder must return. */
function framesOf(spec: Record<FrameKind, Record<string, Args>>) {
  const all = (Object.keys(spec) as FrameKind[]).flatMap((kind) =>
    Object.entries(spec[kind]).map(([verb, a]) =>
      fc.tuple(fc.integer({ min: 0, max: 0xffff }), a).map(([id, { raw, typed }]) => ({
        frame: { kind, id, verb, args: raw } as Frame,
        typed: { kind, id, verb, args: typed } as Frame,
      })),
    ),
  );
  return fc.oneof(...all).filter(({ frame }) => encodable(frame));
}

const dialects = [
  ['brewer', BrewerDialect, framesOf(brewer)],
  ['payment', PaymentDialect, framesOf(payment)],
] as const;

const LINE_CODES = new Set([
  'LINE_BAD_CHECKSUM',
  'LINE_TRUNCATED',
  'LINE_TOO_LONG',
  'LINE_UNKNOWN_VERB',
  'LINE_MALFORMED',
  'VALIDATION_FAILED',
]);

function expectFrameOrCodedError(line: string, dialect: Dialect) {
  const result = decodeFrame(line, dialect);
  if (result.ok) {
    expect(dialect[result.value.kind][result.value.verb]).toBeDefined();
    expect(result.value.id).toBeGreaterThanOrEqual(0);
    expect(result.value.id).toBeLessThanOrEqual(0xffff);
  } else {
    expect(result.error).toBeInstanceOf(ProtocolError);
    expect(isErrorCode(result.error.code)).toBe(true);
    expect(LINE_CODES.has(result.error.code)).toBe(true);
  }
}

describe.each(dialects)('%s dialect properties', (_name, dialect, frames) => {
  it('decode(encode(frame)) gives the frame back, typed', () => {
    fc.assert(
      fc.property(frames, ({ frame, typed }) => {
        expect(decodeFrame(encodeFrame(frame), dialect)).toEqual({ ok: true, value: typed });
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on byte-mutated valid lines', () => {
    const mutation = fc.oneof(
      fc.record({
        op: fc.constant('replace' as const),
        at: fc.nat(),
        ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), ch: fc.constant('') }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        ch: fc.constantFrom('*', ' ', '=', '%', '\n', '>', 'A', '\u0000', '☕'),
      }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), ch: fc.constant('') }),
    );
    fc.assert(
      fc.property(frames, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ frame }, mutations) => {
        let line = encodeFrame(frame);
        for (const m of mutations) {
          const at = m.at % (line.length + 1);
          if (m.op === 'replace') line = line.slice(0, at) + m.ch + line.slice(at + 1);
          else if (m.op === 'delete') line = line.slice(0, at) + line.slice(at + 1);
          else if (m.op === 'insert') line = line.slice(0, at) + m.ch + line.slice(at);
          else line = line.slice(0, at);
        }
        expectFrameOrCodedError(line, dialect);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary strings', () => {
    const framingChars = fc.string({
      unit: fc.constantFrom(
        '>',
        '<',
        '!',
        '*',
        ' ',
        '=',
        '%',
        '0',
        '1',
        'A',
        'F',
        'a',
        'z',
        '_',
        '\r',
        '\n',
        'OK',
        'ERR',
        'PING',
      ),
      maxLength: 80,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), framingChars), (line) => {
        expectFrameOrCodedError(line, dialect);
      }),
      { numRuns: 500 },
    );
  });
});

describe('LineSplitter properties', () => {
  it('yields the same lines however the stream is chunked', () => {
    const lines = fc.array(
      framesOf(brewer).map(({ frame }) => encodeFrame(frame)),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(lines, fc.array(fc.nat(), { maxLength: 10 }), (ls, cuts) => {
        const stream = ls.join('');
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const splitter = new LineSplitter();
        const out: unknown[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          out.push(...splitter.push(stream.slice(from, p)));
          from = p;
        }
        expect(out).toEqual(ls.map((l) => ({ line: l.slice(0, -1) })));
      }),
    );
  });
});

describe('framing properties with a permissive dialect', () => {
  const frame = fc.record({
    kind: fc.constantFrom<FrameKind>('request', 'reply', 'event'),
    id: fc.integer({ min: 0, max: 0xffff }),
    verb: fc.stringMatching(/^[A-Z][A-Z_]{0,15}$/),
    args: fc.dictionary(
      fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
      fc.string({ unit: 'grapheme', maxLength: 16 }),
      {
        maxKeys: 5,
      },
    ),
  });

  it('decode(encode(f)) == f for every frame the encoder accepts', () => {
    fc.assert(
      fc.property(frame, (f) => {
        let line: string;
        try {
          line = encodeFrame(f);
        } catch (error) {
          // The encoder refuses only with a coded error, and only frames that are too big.
          expect(error).toBeInstanceOf(ProtocolError);
          return;
        }
        const dialect: Dialect = { request: {}, reply: {}, event: {} };
        dialect[f.kind][f.verb] = z.record(z.string(), z.string());
        expect(decodeFrame(line, dialect)).toEqual({ ok: true, value: f });
      }),
      { numRuns: 300 },
    );
  });
});
