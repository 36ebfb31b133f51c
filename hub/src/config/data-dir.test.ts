import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubError } from '../errors';
import { prepareDataDir, secureDatabaseFiles } from './data-dir';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('data directory and database file modes', () => {
  const root = mkdtempSync(join(tmpdir(), 'crema-data-dir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the directory 0700 and tightens an existing one', () => {
    const fresh = join(root, 'a', 'b');
    prepareDataDir(fresh);
    expect(mode(fresh)).toBe(0o700);
    const existing = join(root, 'open');
    mkdirSync(existing);
    chmodSync(existing, 0o777);
    prepareDataDir(existing);
    expect(mode(existing)).toBe(0o700);
  });

  it('creates the SQLite file 0600 and tightens existing companions; leaves PostgreSQL alone', () => {
    const file = join(root, 'hub.sqlite');
    secureDatabaseFiles(`sqlite://${file}`);
    expect(mode(file)).toBe(0o600);
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o666);
    secureDatabaseFiles(file);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(() => secureDatabaseFiles('postgres://user@host/db')).not.toThrow();
  });

  it('says what is wrong when the directory cannot be made private', () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, '');
    expect(() => prepareDataDir(join(blocker, 'hub'))).toThrow(HubError);
  });
});
