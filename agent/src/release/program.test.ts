import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  codeCacheStatus,
  readCodeCache,
  runProgram,
  signalProgramReady,
  wrapProgram,
  writeCodeCache,
} from './program';

// A program that shows it ran, with what `require` and `__filename`, and has functions worth caching.
const SOURCE = wrapProgram(`
  const helper = require('./helper.cjs');
  function square(n) { return n * n; }
  globalThis.__programTest = { file: __filename, helper, value: [1, 2, 3].map(square).reduce((a, b) => a + b) };
`);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const STATUS = Symbol.for('crema.agent.codeCache');
type Ran = { file: string; helper: string; value: number };
const ran = () => (globalThis as unknown as { __programTest?: Ran }).__programTest;
/** The cache is written on the tick after the ready signal. */
const ready = async () => {
  signalProgramReady();
  await new Promise((r) => setImmediate(r));
};

describe('a release program with its code cache', () => {
  let dir: string;
  let file: string;
  let cacheFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-program-'));
    file = join(dir, 'agent.mjs');
    cacheFile = `${file}.v8cache`;
    writeFileSync(join(dir, 'helper.cjs'), "module.exports = 'helper beside the release';");
  });

  afterEach(() => {
    delete (globalThis as Record<string | symbol, unknown>).__programTest;
    delete (globalThis as Record<symbol, unknown>)[STATUS];
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs from source the first time, saves the cache once ready, and runs from the cache next time', async () => {
    expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('miss');
    expect(ran()).toEqual({ file, helper: 'helper beside the release', value: 14 });
    expect(codeCacheStatus()).toBe('miss');
    expect(existsSync(cacheFile)).toBe(false);
    await ready();
    expect(readCodeCache(cacheFile, sha(SOURCE))?.length).toBeGreaterThan(0);

    delete (globalThis as Record<string, unknown>).__programTest;
    expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('hit');
    expect(ran()?.value).toBe(14);
    expect(codeCacheStatus()).toBe('hit');
    // Nothing left behind but the cache.
    expect(readdirSync(dir).sort()).toEqual(['agent.mjs.v8cache', 'helper.cjs']);
  });

  it('ignores a cache that is torn, damaged, or made for another program or runtime, and replaces it', async () => {
    runProgram({ source: SOURCE, sha256: sha(SOURCE), file });
    await ready();
    const good = readFileSync(cacheFile);
    const eol = good.indexOf(0x0a);
    const header = JSON.parse(good.subarray(0, eol).toString('utf8')) as Record<string, unknown>;
    const withHeader = (h: Record<string, unknown>) =>
      Buffer.concat([Buffer.from(`${JSON.stringify(h)}\n`), good.subarray(eol + 1)]);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 100] = (flipped[flipped.length - 100] ?? 0) ^ 0xff;
    const bad: Record<string, Buffer> = {
      torn: good.subarray(0, good.length - 1000),
      flipped,
      empty: Buffer.alloc(0),
      'no header': good.subarray(eol + 1),
      'another program': withHeader({ ...header, program: sha('another') }),
      'another node': withHeader({ ...header, node: 'v99.0.0' }),
    };
    for (const [name, bytes] of Object.entries(bad)) {
      writeFileSync(cacheFile, bytes);
      expect(readCodeCache(cacheFile, sha(SOURCE)), name).toBeUndefined();
      delete (globalThis as Record<string, unknown>).__programTest;
      expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file }), name).toBe('miss');
      expect(ran()?.value, name).toBe(14);
      await ready();
      expect(readCodeCache(cacheFile, sha(SOURCE)), name).toBeDefined();
    }
  });

  it('reports a cache V8 refuses (another source under the same hash) as rejected, runs, and rewrites it', async () => {
    const other = wrapProgram('globalThis.__programTest = { value: -1 };');
    runProgram({ source: other, sha256: sha(SOURCE), file });
    await ready();
    delete (globalThis as Record<string, unknown>).__programTest;
    expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('rejected');
    expect(ran()?.value).toBe(14);
    await ready();
    delete (globalThis as Record<string, unknown>).__programTest;
    expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('hit');
    expect(ran()?.value).toBe(14);
  });

  it('runs when the cache cannot be written (a read-only slot) and leaves no temporary file', async () => {
    if (process.getuid?.() === 0) {
      // root writes through permissions: a path under a file stands for the unwritable place instead.
      const blocked = join(dir, 'not-a-dir');
      writeFileSync(blocked, '');
      expect(writeCodeCache(join(blocked, 'agent.mjs.v8cache'), sha(SOURCE), Buffer.from('x'))).toBe(false);
    }
    const readOnly = join(dir, 'slot');
    mkdirSync(readOnly);
    writeFileSync(join(readOnly, 'helper.cjs'), "module.exports = 'read-only';");
    chmodSync(readOnly, 0o555);
    const inSlot = join(readOnly, 'agent.mjs');
    expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file: inSlot })).toBe('miss');
    await ready();
    expect(ran()?.helper).toBe('read-only');
    if (process.getuid?.() !== 0) expect(readdirSync(readOnly)).toEqual(['helper.cjs']);
    chmodSync(readOnly, 0o755);
  });

  it('neither reads nor writes a cache when CREMA_CODE_CACHE=off', async () => {
    runProgram({ source: SOURCE, sha256: sha(SOURCE), file });
    await ready();
    const before = readFileSync(cacheFile);
    rmSync(cacheFile);
    process.env.CREMA_CODE_CACHE = 'off';
    try {
      expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('off');
      await ready();
      expect(existsSync(cacheFile)).toBe(false);
      writeFileSync(cacheFile, before);
      delete (globalThis as Record<string, unknown>).__programTest;
      expect(runProgram({ source: SOURCE, sha256: sha(SOURCE), file })).toBe('off');
      expect(ran()?.value).toBe(14);
    } finally {
      delete process.env.CREMA_CODE_CACHE;
    }
  });

  it('waits for the ready signal before saving, so a start killed before it leaves no cache', () => {
    runProgram({ source: SOURCE, sha256: sha(SOURCE), file });
    expect(existsSync(cacheFile)).toBe(false);
    // The listener is consumed here so that it does not outlive the test.
    signalProgramReady();
  });
});
