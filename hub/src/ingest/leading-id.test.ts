import { describe, expect, it } from 'vitest';
import { ID_SEARCH_BYTES, leadingId } from './leading-id';

const ID = '01M7YRRT80CE9SAWR9B9NZJE9Z';
const RECORD_ID = '01M7YRRX5RX7XA24WN8K4CDFC3';
const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('leadingId', () => {
  it('finds the top-level id of a payload cut anywhere after it', () => {
    const full = `{"v":"1.0","id":"${ID}","deviceId":"cm-1","body":{"samples":[${'1,'.repeat(5000)}`;
    expect(leadingId(bytes(full))).toBe(ID);
    expect(leadingId(bytes(` \n{ "id" : "${ID}"`))).toBe(ID);
  });

  it('never takes a nested id (a record inside a batch) for the top-level one', () => {
    const batch = `{"v":"1.0","type":"batch","body":{"records":[{"id":"${RECORD_ID}"}]},"id":"${ID}"}`;
    expect(leadingId(bytes(batch))).toBe(ID);
    expect(leadingId(bytes(`{"body":{"records":[{"id":"${RECORD_ID}"}]}`))).toBeUndefined();
  });

  it('ignores "id" as a value, inside strings and escapes, and ids that are not ULIDs', () => {
    expect(leadingId(bytes(`{"type":"id","note":"say \\"id\\":\\"${RECORD_ID}\\"","id":"${ID}"}`))).toBe(ID);
    expect(leadingId(bytes('{"id":"not-a-ulid"}'))).toBeUndefined();
    expect(leadingId(bytes(`["id","${ID}"]`))).toBeUndefined();
    expect(leadingId(bytes(''))).toBeUndefined();
  });

  it('looks only at the first ID_SEARCH_BYTES', () => {
    const late = `{"pad":"${'x'.repeat(ID_SEARCH_BYTES)}","id":"${ID}"}`;
    expect(leadingId(bytes(late))).toBeUndefined();
  });
});
