import { createUlidGenerator } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { describeOutboxContract, sampleBodies } from '../../../test/helpers/outbox-contract';
import { openDatabase } from '../database';
import { MemoryOutbox } from './memory-outbox';
import { SqliteOutbox } from './sqlite-outbox';

describeOutboxContract('memory', (options) => ({ outbox: new MemoryOutbox(options), close: () => {} }));

describeOutboxContract('sqlite', (options) => {
  const db = openDatabase(':memory:');
  return { outbox: new SqliteOutbox(db, options), close: () => db.close() };
});

describe('sqlite outbox', () => {
  const options = {
    deviceId: 'dev-001',
    maxBytes: 1 << 20,
    now: () => 1,
    ulid: createUlidGenerator(() => 1),
  };

  it('a record appended in a rolled-back transaction leaves no row and no sequence number behind', () => {
    const db = openDatabase(':memory:');
    const outbox = new SqliteOutbox(db, options);
    outbox.append('order', sampleBodies.order(1));
    expect(() =>
      db.transaction(() => {
        outbox.append('order', sampleBodies.order(2));
        throw new Error('business write failed');
      })(),
    ).toThrow('business write failed');
    expect(outbox.stats()).toMatchObject({ depth: 1, lastSeq: 1 });
    expect(outbox.append('order', sampleBodies.order(3))?.seq).toBe(2);
    db.close();
  });
});
