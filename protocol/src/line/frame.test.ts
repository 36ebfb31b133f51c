import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors';
import { Limits } from '../limits';
import { BrewerDialect, BrewerStatusSchema } from './brewer';
import { crc16, crc16Hex } from './crc16';
import { clipValue, type Dialect, decodeFrame, encodeFrame, type Frame, LineSplitter } from './frame';
import { PaymentDialect } from './payment';

function expectCode(line: string, code: ErrorCode, dialect: Dialect = BrewerDialect) {
  const result = decodeFrame(line, dialect);
  expect(result.ok, line).toBe(false);
  if (!result.ok) expect(result.error.code, line).toBe(code);
}

/** Frames a body by hand, so tests can build lines the encoder would refuse. */
const framed = (body: string) => `${body}*${crc16Hex(body)}\n`;

describe('crc16', () => {
  it('has the CRC-16/CCITT-FALSE check value', () => {
    expect(crc16('123456789')).toBe(0x29b1);
    expect(crc16Hex('123456789')).toBe('29B1');
    expect(crc16('')).toBe(0xffff);
    expect(crc16Hex('A')).toBe('B915');
  });
});

describe('encodeFrame / decodeFrame', () => {
  it('encodes the documented example line', () => {
    const line = encodeFrame({
      kind: 'request',
      id: 42,
      verb: 'BREW',
      args: { ml: '40', temp_c: '92', bar: '9' },
    });
    expect(line).toBe('>002A BREW ml=40 temp_c=92 bar=9*8716\n');
  });

  it('decodes brewer requests, replies and events with typed arguments', () => {
    const brew = decodeFrame(framed('>002A BREW ml=40 temp_c=92.5 bar=9'), BrewerDialect);
    expect(brew).toEqual({
      ok: true,
      value: { kind: 'request', id: 42, verb: 'BREW', args: { ml: 40, temp_c: 92.5, bar: 9 } },
    });
    const milk = decodeFrame(framed('>0001 MILK ml=110 temp_c=60 foam=1'), BrewerDialect);
    expect(milk.ok && milk.value.args).toEqual({ ml: 110, temp_c: 60, foam: true });
    const err = decodeFrame(framed('<002B ERR code=EMPTY fault=beans_empty'), BrewerDialect);
    expect(err.ok && err.value).toEqual({
      kind: 'reply',
      id: 43,
      verb: 'ERR',
      args: { code: 'EMPTY', fault: 'beans_empty' },
    });
    const event = decodeFrame(framed('!FFFF CUP state=removed'), BrewerDialect);
    expect(event.ok && event.value).toEqual({
      kind: 'event',
      id: 0xffff,
      verb: 'CUP',
      args: { state: 'removed' },
    });
  });

  it('round-trips percent-encoded and empty values, and accepts CRLF and lowercase crc', () => {
    const frame: Frame = {
      kind: 'reply',
      id: 7,
      verb: 'OK',
      args: { msg: 'door open 100% ☕🍩', faults: '' },
    };
    const line = encodeFrame(frame);
    expect(line).toContain('msg=door%20open%20100%25%20%E2%98%95%F0%9F%8D%A9 faults=*');
    expect(decodeFrame(line, BrewerDialect)).toEqual({ ok: true, value: frame });
    expect(decodeFrame(line.replace('\n', '\r\n'), BrewerDialect).ok).toBe(true);
    expect(decodeFrame(line.trimEnd(), BrewerDialect).ok).toBe(true);
    const lower = line.trimEnd().replace(/\*([0-9A-F]{4})$/, (_m, crc: string) => `*${crc.toLowerCase()}`);
    expect(decodeFrame(lower, BrewerDialect).ok).toBe(true);
  });

  it('parses a STATUS reply into BrewerStatusSchema', () => {
    const line = encodeFrame({
      kind: 'reply',
      id: 3,
      verb: 'OK',
      args: {
        state: 'fault',
        temp_c: '91.5',
        bar: '0',
        water_ml: '1200',
        beans_g: '0',
        milk_ml: '300',
        cups: '20',
        waste_pct: '35',
        cup: '0',
        door: 'closed',
        faults: 'beans_empty:waste_full',
      },
    });
    const decoded = decodeFrame(line, BrewerDialect);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const status = BrewerStatusSchema.parse(decoded.value.args);
    expect(status).toMatchObject({
      state: 'fault',
      temp_c: 91.5,
      cup: false,
      faults: ['beans_empty', 'waste_full'],
    });
    expect(BrewerStatusSchema.parse({ ...decoded.value.args, faults: '' }).faults).toEqual([]);
  });

  it('decodes the payment dialect', () => {
    const auth = decodeFrame(framed('>0007 AUTH amount=320 cur=EUR ref=ord_01HZX3'), PaymentDialect);
    expect(auth.ok && auth.value.args).toEqual({ amount: 320, cur: 'EUR', ref: 'ord_01HZX3' });
    const declined = decodeFrame(
      framed('<0007 OK txn=T1 state=declined reason=insufficient_funds'),
      PaymentDialect,
    );
    expect(declined.ok && declined.value.args).toEqual({
      txn: 'T1',
      state: 'declined',
      reason: 'insufficient_funds',
    });
    expect(decodeFrame(framed('>0009 STATUS ref=ord_1'), PaymentDialect).ok).toBe(true);
    expectCode(framed('>0009 STATUS'), 'VALIDATION_FAILED', PaymentDialect);
    expectCode(framed('<0009 ERR code=TIMEOUT'), 'VALIDATION_FAILED', BrewerDialect);
    expect(decodeFrame(framed('<0009 ERR code=TIMEOUT'), PaymentDialect).ok).toBe(true);
    expectCode(framed('>0007 AUTH amount=3.5 cur=EUR ref=o'), 'VALIDATION_FAILED', PaymentDialect);
    expectCode(framed('>0007 AUTH amount=320 cur=eur ref=o'), 'VALIDATION_FAILED', PaymentDialect);
  });
});

describe('bad lines decode to coded errors', () => {
  const good = encodeFrame({ kind: 'request', id: 1, verb: 'HEAT', args: { temp_c: '93' } }).trimEnd();

  it('corrupt checksum', () => {
    expectCode(good.replace('93', '94'), 'LINE_BAD_CHECKSUM');
    expectCode(good.replace(/\*.{4}$/, '*0000'), 'LINE_BAD_CHECKSUM');
  });

  it('truncated lines', () => {
    expectCode(good.slice(0, -2), 'LINE_TRUNCATED');
    expectCode(good.slice(0, good.indexOf('*')), 'LINE_TRUNCATED');
    expectCode('', 'LINE_TRUNCATED');
    expectCode('>0001 PI', 'LINE_TRUNCATED');
  });

  it('overlong lines', () => {
    const body = `>0001 OK msg=${'a'.repeat(Limits.lineBytes)}`;
    expectCode(framed(body), 'LINE_TOO_LONG');
    expectCode('x'.repeat(100_000), 'LINE_TOO_LONG');
  });

  it('garbage and framing errors', () => {
    expectCode('hello world', 'LINE_TRUNCATED');
    expectCode(`${good.slice(0, -4)}ZZZZ`, 'LINE_MALFORMED');
    expectCode(`${good}0`, 'LINE_MALFORMED');
    expectCode(framed('?0001 PING'), 'LINE_MALFORMED');
    expectCode(framed('>001 PING'), 'LINE_MALFORMED');
    expectCode(framed('>0001 ping'), 'LINE_MALFORMED');
    expectCode(framed('>0001 HEAT temp_c=9 3'), 'LINE_MALFORMED');
    expectCode(framed('>0001 HEAT Temp=93'), 'LINE_MALFORMED');
    expectCode(framed('>0001  PING'), 'LINE_MALFORMED');
    expectCode(framed('<0001 OK msg=%E2%98'), 'LINE_MALFORMED');
    expectCode(framed('<0001 OK msg=%zz'), 'LINE_MALFORMED');
    expectCode('\u0000\u0001*\u00ff\n', 'LINE_TRUNCATED');
  });

  it('unknown verbs, also a verb used with the wrong prefix', () => {
    expectCode(framed('>0001 LATTE size=L'), 'LINE_UNKNOWN_VERB');
    expectCode(framed('!0001 BREW ml=30 temp_c=92 bar=9'), 'LINE_UNKNOWN_VERB');
    expectCode(framed('<0001 READY fw=1 model=x'), 'LINE_UNKNOWN_VERB');
    expectCode(framed('>0001 AUTH amount=1 cur=EUR ref=x'), 'LINE_UNKNOWN_VERB', BrewerDialect);
  });

  it('wrong arguments for a known verb', () => {
    expectCode(framed('>0001 HEAT'), 'VALIDATION_FAILED');
    expectCode(framed('>0001 HEAT temp_c=hot'), 'VALIDATION_FAILED');
    expectCode(framed('>0001 HEAT temp_c=93 extra=1'), 'VALIDATION_FAILED');
    expectCode(framed('>0001 PING x=1'), 'VALIDATION_FAILED');
    expectCode(framed('>0001 MILK ml=1 temp_c=60 foam=yes'), 'VALIDATION_FAILED');
    expectCode(framed('<0001 ERR code=NOPE'), 'VALIDATION_FAILED');
    expectCode(framed('!0001 FAULT code=on_fire'), 'VALIDATION_FAILED');
  });
});

describe('encodeFrame refuses frames no receiver could decode', () => {
  it.each([
    ['a lowercase verb', { kind: 'request', id: 1, verb: 'ping', args: {} }, 'LINE_MALFORMED'],
    ['a bad key', { kind: 'reply', id: 1, verb: 'OK', args: { 'Bad-Key': '1' } }, 'LINE_MALFORMED'],
    ['a long value', { kind: 'reply', id: 1, verb: 'OK', args: { msg: 'x'.repeat(97) } }, 'LINE_MALFORMED'],
    [
      'a long line',
      { kind: 'reply', id: 1, verb: 'OK', args: { a: 'x'.repeat(90), b: 'x'.repeat(90), c: 'x'.repeat(90) } },
      'LINE_TOO_LONG',
    ],
  ] as [string, Frame, ErrorCode][])('%s', (_why, frame, code) => {
    expect(() => encodeFrame(frame)).toThrow(expect.objectContaining({ name: 'ProtocolError', code }));
  });

  it('accepts a line of exactly the limit, terminator included', () => {
    // '<0001 OK' + ' a=' 96 + ' b=' 96 + ' c=' n + '*XXXX\n' = 256 bytes
    const n = Limits.lineBytes - 8 - 2 * (3 + 96) - 3 - 6;
    const frame: Frame = {
      kind: 'reply',
      id: 1,
      verb: 'OK',
      args: { a: 'x'.repeat(96), b: 'y'.repeat(96), c: 'z'.repeat(n) },
    };
    const line = encodeFrame(frame);
    expect(line.length).toBe(Limits.lineBytes);
    expect(decodeFrame(line, BrewerDialect)).toEqual({ ok: true, value: frame });
    const splitter = new LineSplitter();
    expect(splitter.push(line)).toEqual([{ line: line.trimEnd() }]);
  });
});

describe('LineSplitter', () => {
  const a = encodeFrame({ kind: 'request', id: 1, verb: 'PING', args: {} });
  const b = encodeFrame({ kind: 'event', id: 2, verb: 'DOOR', args: { state: 'open' } });

  it('reassembles lines from arbitrary chunks', () => {
    const stream = a + b + a;
    for (const size of [1, 2, 3, 7, 13, stream.length]) {
      const splitter = new LineSplitter();
      const out: unknown[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.slice(i, i + size)));
      expect(out, `chunk ${size}`).toEqual([
        { line: a.trimEnd() },
        { line: b.trimEnd() },
        { line: a.trimEnd() },
      ]);
    }
  });

  it('keeps a partial line until its newline arrives', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(a.slice(0, 5))).toEqual([]);
    expect(splitter.push(a.slice(5))).toEqual([{ line: a.trimEnd() }]);
  });

  it('reports an overlong line once and resumes at the next line', () => {
    const splitter = new LineSplitter();
    const out = [
      ...splitter.push('z'.repeat(200)),
      ...splitter.push('z'.repeat(200)),
      ...splitter.push('z'.repeat(5000)),
      ...splitter.push(`zz\n${a}`),
      ...splitter.push(b),
    ];
    expect(out).toEqual([{ error: 'LINE_TOO_LONG' }, { line: a.trimEnd() }, { line: b.trimEnd() }]);
  });

  it('reports an overlong line that arrives whole', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(`${'z'.repeat(300)}\n${a}`)).toEqual([
      { error: 'LINE_TOO_LONG' },
      { line: a.trimEnd() },
    ]);
  });
});

describe('clipValue', () => {
  it('cuts free text so that its encoded form fits one value, keeping the start and whole escapes', () => {
    const text = `VALIDATION_FAILED: ${'é '.repeat(40)}`;
    const clipped = clipValue(text);
    expect(text.startsWith(clipped)).toBe(true);
    const line = encodeFrame({ kind: 'reply', id: 1, verb: 'ERR', args: { code: 'BAD_ARGS', msg: clipped } });
    const value = / msg=(\S+)\*/.exec(line)?.[1] ?? '';
    expect(value.length).toBeLessThanOrEqual(96);
    expect(value.length).toBeGreaterThan(90);
    expect(decodeURIComponent(value)).toBe(clipped);
    expect(clipValue('short text')).toBe('short text');
  });
});
