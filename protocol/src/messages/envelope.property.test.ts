import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageExamples } from '../docs/examples';
import type { Decoded } from '../errors';
import { isErrorCode, ProtocolError } from '../errors';
import { MESSAGE_TYPES } from './catalog';
import { decodeEnvelope, type Envelope, splitBatch, validateEnvelope } from './envelope';

const examples = MESSAGE_TYPES.flatMap((t) => MessageExamples[t] as Envelope[]);

function expectEnvelopeOrCodedError(result: Decoded<Envelope>) {
  if (result.ok) expect(MESSAGE_TYPES).toContain(result.value.type);
  else {
    expect(result.error).toBeInstanceOf(ProtocolError);
    expect(isErrorCode(result.error.code)).toBe(true);
  }
}

describe('envelope decoding never throws', () => {
  it('on arbitrary strings and bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        (raw) => {
          expectEnvelopeOrCodedError(decodeEnvelope(raw));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on arbitrary JSON, and on arbitrary values given to validateEnvelope', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.anything(), (json, value) => {
        expectEnvelopeOrCodedError(decodeEnvelope(JSON.stringify(json) ?? 'null'));
        expectEnvelopeOrCodedError(validateEnvelope(value));
      }),
      { numRuns: 300 },
    );
  });

  it('on examples with one field replaced by an arbitrary value', () => {
    const path = (e: Envelope) => {
      const keys = [
        ...Object.keys(e).map((k) => [k]),
        ...Object.keys(e.body as object).map((k) => ['body', k]),
      ];
      return fc.constantFrom(...keys);
    };
    const mutated = fc
      .constantFrom(...examples)
      .chain((e) => fc.tuple(fc.constant(e), path(e), fc.jsonValue({ maxDepth: 2 })));
    fc.assert(
      fc.property(mutated, ([example, keys, value]) => {
        const copy = structuredClone(example) as unknown as Record<string, Record<string, unknown>>;
        if (keys.length === 1) (copy as Record<string, unknown>)[keys[0]!] = value;
        else copy.body![keys[1]!] = value;
        expectEnvelopeOrCodedError(decodeEnvelope(JSON.stringify(copy)));
      }),
      { numRuns: 300 },
    );
  });

  it('on text-mutated examples', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...examples), fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 3 }))
      .map(([e, at, del, ins]) => {
        const text = JSON.stringify(e);
        const i = at % (text.length + 1);
        return text.slice(0, i) + ins + text.slice(i + del);
      });
    fc.assert(
      fc.property(mutated, (text) => expectEnvelopeOrCodedError(decodeEnvelope(text))),
      { numRuns: 300 },
    );
  });

  it('splitBatch sorts arbitrary records into good and coded bad ones', () => {
    const records = fc.array(fc.oneof(fc.anything(), fc.constantFrom(...examples)), { maxLength: 10 });
    fc.assert(
      fc.property(records, (rs) => {
        const { good, bad } = splitBatch(rs);
        expect(good.length + bad.length).toBe(rs.length);
        for (const b of bad) expect(isErrorCode(b.error.code)).toBe(true);
      }),
    );
  });
});
