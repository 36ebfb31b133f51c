import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

/** The agent's service-mode switch (agent/src/orders/order-service.ts FREE_VEND_KEY). */
const FREE_VEND_KEY = 'service.freeVend';

const fieldsOf = (file: string, id: string) =>
  file
    .split('\r\n')
    .filter((l) => l.startsWith(`${id}*`))
    .map((l) => l.split('*').slice(1));

/** A real agent sells (card and service-mode free vends); the hub's DEX file counts exactly what it sold. */
describe('audit counters of a real machine', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-porto-dex-0001';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-dex-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Porto Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchant));
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
  });

  afterAll(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the paid and free vends the agent recorded, then starts a new interval on read', async () => {
    await machine.sell(3);
    machine.store.settings.set(FREE_VEND_KEY, true);
    const orders = machine.agent?.orders;
    if (!orders) throw new Error('agent not running');
    orders.create({ recipeId: 'espresso', size: 'M', method: 'free_vend' });
    await orders.idle();
    machine.sync?.kick();
    await waitFor(() => machine.ledger().depth === 0, 20_000, 'sales acknowledged');

    const sold = machine.ledger().orders.filter((o) => o.state === 'completed');
    const paid = sold.filter((o) => o.amount > 0);
    expect([paid.length, sold.length - paid.length]).toEqual([3, 1]);
    const value = paid.reduce((sum, o) => sum + o.amount, 0);

    const file = await hub.text('GET', `/api/v1/devices/${deviceId}/dex`);
    expect(file.endsWith('DXE*1*1\r\n')).toBe(true);
    expect(fieldsOf(file, 'ID1')[0]?.slice(0, 2)).toEqual([deviceId, 'cm-1']);
    expect(fieldsOf(file, 'VA1')[0]?.map(Number)).toEqual([value, 3, value, 3]);
    expect(fieldsOf(file, 'VA3')[0]?.map(Number)).toEqual([0, 1, 0, 1]);
    expect(fieldsOf(file, 'DA2')[0]?.map(Number)).toEqual([value, 3, value, 3]);
    expect(fieldsOf(file, 'PA1').map((f) => f[0])).toEqual(['espresso.M', 'espresso.M']);
    const lines = file.split('\r\n').filter(Boolean);
    expect(Number(fieldsOf(file, 'SE')[0]?.[0])).toBe(lines.length - 2);

    const read = await hub.text('POST', `/api/v1/devices/${deviceId}/dex/read`);
    expect(fieldsOf(read, 'VA1')).toEqual(fieldsOf(file, 'VA1'));
    await machine.sell(1);
    await waitFor(() => machine.ledger().depth === 0, 20_000, 'next sale acknowledged');
    const next = await hub.text('GET', `/api/v1/devices/${deviceId}/dex`);
    const interval = fieldsOf(next, 'MA5').find((f) => f[0] === 'INTERVAL') ?? [];
    expect(Number(interval[4])).toBe(1);
    expect(Number(fieldsOf(next, 'VA1')[0]?.[1])).toBe(4);
  });
});
