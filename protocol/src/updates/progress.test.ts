import { describe, expect, it } from 'vitest';
import { MessageCatalog } from '../messages/catalog';
import { UpdateProgressSchema } from './progress';

const base = {
  rolloutId: 'ro_1',
  kind: 'brewer-firmware',
  version: '1.5.0',
  fromVersion: '1.4.2',
  at: 1,
} as const;

describe('update progress message', () => {
  it('is a durable up message in the catalogue', () => {
    expect(MessageCatalog.update_progress).toMatchObject({ dir: 'up', record: true, qos: 1 });
  });

  it('requires a reason code when the update ended without success', () => {
    expect(UpdateProgressSchema.safeParse({ ...base, stage: 'rolled_back' }).success).toBe(false);
    expect(UpdateProgressSchema.safeParse({ ...base, stage: 'failed', reason: 'NOPE' }).success).toBe(false);
    expect(
      UpdateProgressSchema.safeParse({ ...base, stage: 'rolled_back', reason: 'HEALTH_CHECK_FAILED' })
        .success,
    ).toBe(true);
    expect(UpdateProgressSchema.safeParse({ ...base, stage: 'succeeded' }).success).toBe(true);
    expect(UpdateProgressSchema.safeParse({ ...base, stage: 'downloading', pct: 101 }).success).toBe(false);
  });
});
