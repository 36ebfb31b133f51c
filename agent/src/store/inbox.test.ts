import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { Inbox } from './inbox';

describe('inbox', () => {
  it('keeps the first result of a key until it expires, then forgets it', () => {
    let now = 1000;
    const db = openDatabase(':memory:');
    const inbox = new Inbox(db, () => now);
    expect(inbox.get('k1')).toBeUndefined();
    inbox.put('k1', { status: 'succeeded' }, 2000);
    expect(inbox.put('k1', { status: 'failed' }, 5000).result).toEqual({ status: 'succeeded' });
    expect(inbox.get('k1')?.result).toEqual({ status: 'succeeded' });
    now = 2000;
    expect(inbox.get('k1')).toBeUndefined();
    expect(inbox.purgeExpired()).toBe(1);
    inbox.put('k1', { status: 'failed' }, 9000);
    expect(inbox.get('k1')?.result).toEqual({ status: 'failed' });
    db.close();
  });
});
