import { describe, expect, it } from 'vitest';
import { readableLine } from './log';

describe('the fleet log lines', () => {
  it('print a pino record as time, level, namespace, message and fields, not as JSON', () => {
    const line = readableLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 0, 2, 12, 4, 5),
        pid: 1,
        hostname: 'h',
        ns: 'agent:brewer',
        deviceId: 'demo-machine-1',
        err: { message: 'link lost', stack: 'Error: …' },
        msg: 'brewer link down',
      }),
    );
    expect(line).toBe(
      '12:04:05 WARN  agent:brewer  brewer link down  deviceId=demo-machine-1 err="link lost"',
    );
  });

  it('leave a line that is not JSON as it is', () => {
    expect(readableLine('plain text\n')).toBe('plain text');
  });
});
