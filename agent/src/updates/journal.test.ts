import type { Command, UpdateProgress } from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRecipeSet } from '../orders/default-recipe-set';
import { Store } from '../store/store';
import { FakeClock } from '../time/fake-clock';
import { UpdateJournal } from './journal';

const command = {
  commandId: 'c1',
  idempotencyKey: 'k1',
  issuedAt: 0,
  expiresAt: 1,
  kind: 'upgrade_firmware',
  params: { rolloutId: 'ro_1', manifest: 'x.y.z' },
} as Command;
const update = {
  commandKey: 'k1',
  command,
  rolloutId: 'ro_1',
  kind: 'brewer-firmware' as const,
  version: '1.5.0',
  fromVersion: '1.4.2',
  manifest: 'x.y.z',
};

let store: Store;
let journal: UpdateJournal;
const reports = () =>
  (
    store.db.prepare("SELECT payload FROM outbox WHERE type = 'update_progress' ORDER BY seq").all() as {
      payload: string;
    }[]
  ).map((r) => (JSON.parse(r.payload) as { body: UpdateProgress }).body);

beforeEach(() => {
  const clock = new FakeClock(1_000);
  store = Store.open({
    dataDir: ':memory:',
    deviceId: 'dev-1',
    outboxMaxBytes: 1 << 20,
    clock,
    defaults: defaultRecipeSet('EUR'),
  });
  journal = new UpdateJournal(store.db, store.outbox, () => clock.now());
});
afterEach(() => store.close());

describe('update journal', () => {
  it('reports each stage change with the step that caused it, and the final stage exactly once', () => {
    const row = journal.begin(update, 'downloading');
    journal.advance(row.id, {}, { pct: 50 });
    journal.advance(row.id, { step: 'install', stage: 'installing', slot: 'b', prevSlot: 'a' });
    journal.advance(row.id, { flashing: true }); // same stage: nothing reported
    journal.advance(row.id, { step: 'rollback', reason: 'HEALTH_CHECK_FAILED', detail: 'cold' });
    journal.finish(row.id, { stage: 'rolled_back' });
    journal.finish(row.id, { stage: 'succeeded' }); // a second end changes nothing
    expect(reports().map((p) => [p.stage, p.pct, p.reason])).toEqual([
      ['downloading', undefined, undefined],
      ['downloading', 50, undefined],
      ['installing', undefined, undefined],
      ['rolled_back', undefined, 'HEALTH_CHECK_FAILED'],
    ]);
    expect(journal.active()).toBeUndefined();
    expect(journal.byKey('k1')).toMatchObject({
      stage: 'rolled_back',
      step: 'done',
      slot: 'b',
      flashing: true,
    });
  });

  it('holds one unfinished install at a time and records the floor of a success', () => {
    const row = journal.begin(update, 'downloading');
    expect(() => journal.begin({ ...update, commandKey: 'k2' }, 'downloading')).toThrow();
    journal.finish(row.id, { stage: 'succeeded' }, { floor: '1.2.0' });
    expect(journal.floor('brewer-firmware')).toBe('1.2.0');
    expect(journal.floor('agent')).toBeUndefined();
    expect(journal.finished('ro_1', 'brewer-firmware', '1.5.0')).toMatchObject({ stage: 'succeeded' });
    expect(reports().at(-1)).toMatchObject({ stage: 'succeeded' });
    expect(reports().at(-1)?.reason).toBeUndefined();
  });
});
