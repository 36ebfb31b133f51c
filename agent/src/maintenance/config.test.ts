import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load';

const base = {
  deviceId: 'machine-001',
  dataDir: '/var/lib/crema',
  drivers: {
    brewer: { transport: 'serial', path: '/dev/ttyUSB0' },
    payment: { transport: 'tcp', host: '127.0.0.1', port: 4001 },
    modbus: { transport: 'rtu', path: '/dev/ttyUSB1' },
  },
};
const file = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'crema-maint-config-')), 'agent.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
};

describe('maintenance in the agent configuration', () => {
  it('has its defaults without a section, and takes environment overrides', () => {
    expect(loadConfig({ file: file(base), env: {} }).maintenance).toMatchObject({
      rinse: { everyDrinks: 100, everyHours: 24, autoRun: true },
      descale: { everyDrinks: 5000, everyDays: 30, autoRun: false },
      lockWhenOverdue: false,
    });
    const config = loadConfig({
      file: file({ ...base, maintenance: { descale: { everyDays: 14 } } }),
      env: { CREMA_AGENT_MAINTENANCE__LOCK_WHEN_OVERDUE: 'true' },
    });
    expect(config.maintenance).toMatchObject({
      lockWhenOverdue: true,
      descale: { everyDays: 14, graceDays: 0, autoRun: false },
    });
    expect(config.maintenance.descale.everyDrinks).toBeUndefined();
  });

  it('stops the start with a message naming the field', () => {
    expect(() =>
      loadConfig({
        file: file({ ...base, maintenance: { rinse: { cycles: 9 }, quietHours: { from: 25, to: 6 } } }),
        env: {},
      }),
    ).toThrow(/maintenance\.rinse\.cycles[\s\S]*maintenance\.quietHours\.from/);
    expect(() =>
      loadConfig({ file: file({ ...base, maintenance: { descale: { graceDays: 2 } } }), env: {} }),
    ).toThrow(/maintenance\.descale: set everyDrinks, everyDays or both/);
  });
});
