import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';

/**
 * How a release runs its program with a V8 code cache. A release is one ES module (`agent/build.ts`): this
 * loader plus the agent as CommonJS source in a string. Compiled through `vm.Script` with the bytecode V8
 * produced on an earlier start, the agent skips most of its parsing and compiling: about a quarter less CPU
 * to the ready line, which a board pays at every boot and every restart after a power cut. (Node 22's
 * `module.enableCompileCache` does this for any module; Node 20, which boards run, has no such thing.)
 *
 * The cache lives beside the release (`<release>.v8cache`) and is only ever a speed-up: a missing,
 * unreadable, torn or foreign file is ignored and the program compiles from source, and a file that cannot be
 * written (read-only slot, full disk) is skipped.
 */

/** Emitted on `process` by the agent once it takes orders: the moment its start-up code is compiled. */
const PROGRAM_READY_EVENT = 'crema:program-ready';

/** Called by the agent once it takes orders: a loader waiting to save the cache does it now. */
export function signalProgramReady(): void {
  (process as NodeJS.EventEmitter).emit(PROGRAM_READY_EVENT);
}

/** What became of the cache on this start, as the ready line reports it. */
export type CodeCacheStatus = 'hit' | 'miss' | 'rejected' | 'off' | 'none';

// The program and its loader are separate bundles: the status passes through a process-wide symbol.
const STATUS = Symbol.for('crema.agent.codeCache');

/** The cache status of this process; 'none' when the agent was not started from a release file. */
export function codeCacheStatus(): CodeCacheStatus {
  return ((globalThis as Record<symbol, unknown>)[STATUS] as CodeCacheStatus | undefined) ?? 'none';
}

type CacheHeader = { v: 1; program: string; node: string; arch: string; size: number; crc: number };

/** The cache key: the program's hash (V8 checks only the source's length) and the runtime that compiled it. */
function headerFor(programSha256: string, payload: Buffer): CacheHeader {
  return {
    v: 1,
    program: programSha256,
    node: process.version,
    arch: process.arch,
    size: payload.length,
    crc: crc32(payload),
  };
}

/** The cached bytecode for this program on this runtime, or undefined when absent, foreign or damaged. */
export function readCodeCache(file: string, programSha256: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return undefined;
  }
  const eol = data.indexOf(0x0a);
  if (eol <= 0 || eol > 512) return undefined;
  let header: Partial<CacheHeader>;
  try {
    header = JSON.parse(data.subarray(0, eol).toString('utf8')) as Partial<CacheHeader>;
  } catch {
    return undefined;
  }
  const payload = data.subarray(eol + 1);
  const expected = headerFor(programSha256, payload);
  const same = (Object.keys(expected) as (keyof CacheHeader)[]).every((k) => header[k] === expected[k]);
  return same ? payload : undefined;
}

/**
 * Writes the cache through a temporary file and a rename, so that a reader (another start, or this one after a
 * power cut) finds a whole file or none; the checksum in the header catches what a power cut still tears.
 */
export function writeCodeCache(file: string, programSha256: string, payload: Buffer): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const header = `${JSON.stringify(headerFor(programSha256, payload))}\n`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(header, 'utf8'), payload]));
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {}
    return false;
  }
}

/**
 * The program's CommonJS source wrapped as node wraps a module, done when the release is built: the string in
 * the release is then the very one V8 compiles and keeps, not a second copy of 2.5 MB.
 */
export function wrapProgram(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

export type ProgramSource = {
  /** The program, as `wrapProgram` returns it. */
  source: string;
  /** Its SHA-256, computed when the release was built. */
  sha256: string;
  /** The release file: the program's `__filename`, where its `require` resolves from, and the cache's name. */
  file: string;
};

/**
 * Compiles and runs the program with the cache beside `file`. When it had no usable cache, a new one is written
 * once the program calls `signalProgramReady`, so that it holds the bytecode of everything the start ran.
 */
export function runProgram({ source, sha256, file }: ProgramSource): CodeCacheStatus {
  const cacheFile = `${file}.v8cache`;
  const off = process.env.CREMA_CODE_CACHE === 'off';
  const cachedData = off ? undefined : readCodeCache(cacheFile, sha256);
  const script = new vm.Script(source, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const status: CodeCacheStatus = off
    ? 'off'
    : !cachedData
      ? 'miss'
      : script.cachedDataRejected
        ? 'rejected'
        : 'hit';
  (globalThis as Record<symbol, unknown>)[STATUS] = status;
  if (status === 'miss' || status === 'rejected') {
    // After the ready line is written: the cache costs the start nothing.
    process.once(PROGRAM_READY_EVENT, () =>
      setImmediate(() => {
        // A speed-up only: nothing here may stop the agent.
        try {
          writeCodeCache(cacheFile, sha256, script.createCachedData());
        } catch {}
      }),
    );
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(file), module, file, dirname(file));
  return status;
}
