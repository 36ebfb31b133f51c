import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, compareSemver } from './common';

describe('compareSemver', () => {
  it.each([
    ['1.0.0', '1.0.1'],
    ['1.0.9', '1.1.0'],
    ['1.9.0', '2.0.0'],
    ['1.2.3', '1.10.0'],
    ['1.0.0-rc.1', '1.0.0'],
    ['1.0.0-alpha', '1.0.0-beta'],
    ['1.0.0-rc.2', '1.0.0-rc.10'],
    ['1.0.0-1', '1.0.0-alpha'],
    ['1.0.0-rc', '1.0.0-rc.1'],
    ['1.0.0-rc-1', '1.0.0-rc-2'],
    ['0.9.99', '1.0.0-0'],
  ])('%s < %s', (a, b) => {
    expect(compareSemver(a, b)).toBeLessThan(0);
    expect(compareSemver(b, a)).toBeGreaterThan(0);
  });

  it('treats equal versions as equal', () => {
    expect(compareSemver('2.4.1', '2.4.1')).toBe(0);
    expect(compareSemver('2.4.1-rc.1', '2.4.1-rc.1')).toBe(0);
  });

  it('is a consistent order (antisymmetric, sorts transitively)', () => {
    const version = fc
      .tuple(
        fc.nat(20),
        fc.nat(20),
        fc.nat(20),
        fc.option(fc.constantFrom('alpha', 'beta', 'rc.1', 'rc.2', 'rc.10', '1', '2'), { nil: undefined }),
      )
      .map(([a, b, c, p]) => `${a}.${b}.${c}${p ? `-${p}` : ''}`);
    fc.assert(
      fc.property(fc.array(version, { maxLength: 12 }), (versions) => {
        const sorted = [...versions].sort(compareSemver);
        for (let i = 1; i < sorted.length; i++)
          expect(compareSemver(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
        for (const a of versions)
          for (const b of versions)
            expect(Math.sign(compareSemver(a, b)) + Math.sign(compareSemver(b, a))).toBe(0);
      }),
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it('keeps a "__proto__" key as a field (it must not change the prototype and vanish)', () => {
    const obj = JSON.parse('{"":{"__proto__":false},"b":1}');
    expect(canonicalJson(obj)).toBe('{"":{"__proto__":false},"b":1}');
  });

  it('is the same for objects that differ only in key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });
});
