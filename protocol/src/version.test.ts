import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ErrorCodes, isErrorCode, ProtocolError, rejected } from './errors';
import { isCompatibleVersion, PROTOCOL_MAJOR, PROTOCOL_VERSION, parseVersion } from './version';

describe('version rule', () => {
  it('parses major.minor and nothing else', () => {
    expect(parseVersion('1.12')).toEqual({ major: 1, minor: 12 });
    for (const bad of ['1', '1.', '1.2.3', 'v1.2', '1.2 ', '', '1000.1'])
      expect(parseVersion(bad), bad).toBeUndefined();
  });

  it('is compatible with every minor of its own major only', () => {
    expect(PROTOCOL_VERSION.startsWith(`${PROTOCOL_MAJOR}.`)).toBe(true);
    expect(isCompatibleVersion(`${PROTOCOL_MAJOR}.0`)).toBe(true);
    expect(isCompatibleVersion(`${PROTOCOL_MAJOR}.99`)).toBe(true);
    expect(isCompatibleVersion(`${PROTOCOL_MAJOR + 1}.0`)).toBe(false);
    expect(isCompatibleVersion('garbage')).toBe(false);
  });
});

describe('error catalogue', () => {
  it('gives every code an HTTP error status and a message', () => {
    for (const code of ERROR_CODES) {
      expect(ErrorCodes[code].status, code).toBeGreaterThanOrEqual(400);
      expect(ErrorCodes[code].status, code).toBeLessThan(600);
      expect(ErrorCodes[code].message.length, code).toBeGreaterThan(0);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it('recognises its codes only', () => {
    expect(isErrorCode('LINE_BAD_CHECKSUM')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });

  it('carries the code, the catalogue message by default, and details', () => {
    const error = new ProtocolError('MESSAGE_TOO_LARGE');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProtocolError');
    expect(error.message).toBe(ErrorCodes.MESSAGE_TOO_LARGE.message);
    const r = rejected('VALIDATION_FAILED', 'bad', { path: 'x' });
    expect(!r.ok && [r.error.code, r.error.message, r.error.details]).toEqual([
      'VALIDATION_FAILED',
      'bad',
      { path: 'x' },
    ]);
  });
});
