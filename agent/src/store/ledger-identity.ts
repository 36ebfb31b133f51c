import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../errors';
import { type Db, openDatabase } from './database';

/** Which ledger a database holds: the epoch of every record it numbers (envelope `epoch`). */
export type LedgerIdentity = { ledgerId: string; deviceId: string; createdAt: number };

const DB_FILE = 'agent.db';
/** Beside the database: survives the database being deleted or emptied, so that is noticed. */
const MARKER_FILE = 'ledger.json';

const MarkerSchema = z.object({
  ledgerId: z.string().min(1).max(64),
  deviceId: z.string().min(1).max(64),
  createdAt: z.number().int().min(0),
});

export type OpenLedgerOptions = {
  dataDir: string;
  deviceId: string;
  now: () => number;
  ulid: () => string;
  /**
   * Start a new ledger (a new epoch, sequence from 1) when the existing one is missing, empty or damaged. The
   * old files are kept aside, never deleted; a healthy ledger is never replaced.
   */
  resetLedger?: boolean;
};

/**
 * Opens this machine's ledger and checks it is the one the machine had: a known machine (`ledger.json`
 * present) whose database is missing or empty refuses to start (LEDGER_MISSING) instead of silently starting
 * a new ledger that would reuse sequence numbers; a damaged one is LEDGER_DAMAGED. Only `resetLedger` starts
 * over, under a new epoch. Files are private to the agent: directory 0700, database and marker 0600.
 */
export function openLedger(o: OpenLedgerOptions): { db: Db; identity: LedgerIdentity; replaced?: string } {
  if (o.dataDir === ':memory:') {
    const db = openDatabase(':memory:');
    return { db, identity: ensureIdentity(db, o) };
  }
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  try {
    return openKnown(o);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (!o.resetLedger || (code !== 'LEDGER_MISSING' && code !== 'LEDGER_DAMAGED')) throw err;
    const replaced = setAside(o);
    return { ...openKnown(o), replaced };
  }
}

function openKnown(o: OpenLedgerOptions): { db: Db; identity: LedgerIdentity } {
  const file = join(o.dataDir, DB_FILE);
  const marker = readMarker(o.dataDir);
  const size = existsSync(file) ? statSync(file).size : -1;
  if (marker && size <= 0) {
    throw new AgentError(
      'LEDGER_MISSING',
      `${file} is ${size < 0 ? 'missing' : 'empty'} but this machine has ledger ${marker.ledgerId} ` +
        `(${MARKER_FILE}); restore the database, or start with --reset-ledger to begin a new ledger`,
    );
  }
  // Created private before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  if (size < 0) closeSync(openSync(file, 'wx', 0o600));
  const db = openDatabase(file);
  try {
    const identity = ensureIdentity(db, o);
    if (marker && marker.ledgerId !== identity.ledgerId) {
      throw new AgentError(
        'LEDGER_DAMAGED',
        `${file} holds ledger ${identity.ledgerId}, but this machine's ledger is ${marker.ledgerId}`,
      );
    }
    if (!marker) writeMarker(o.dataDir, identity);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    return { db, identity };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The ledger row; a new database (or one from before epochs) gets a new ledger id here. */
function ensureIdentity(db: Db, o: OpenLedgerOptions): LedgerIdentity {
  const row = db.prepare('SELECT ledger_id, device_id, created_at FROM ledger WHERE id = 1').get() as
    | { ledger_id: string; device_id: string; created_at: number }
    | undefined;
  if (!row) {
    const identity = { ledgerId: o.ulid(), deviceId: o.deviceId, createdAt: o.now() };
    db.prepare('INSERT INTO ledger (id, ledger_id, device_id, created_at) VALUES (1, ?, ?, ?)').run(
      identity.ledgerId,
      identity.deviceId,
      identity.createdAt,
    );
    return identity;
  }
  if (row.device_id !== o.deviceId) {
    throw new AgentError(
      'LEDGER_DAMAGED',
      `the ledger belongs to device ${row.device_id}, not ${o.deviceId}; sales are refused`,
    );
  }
  return { ledgerId: row.ledger_id, deviceId: row.device_id, createdAt: row.created_at };
}

function readMarker(dataDir: string): LedgerIdentity | undefined {
  const path = join(dataDir, MARKER_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return MarkerSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new AgentError('LEDGER_DAMAGED', `${path} is unreadable: ${(err as Error).message.slice(0, 200)}`, {
      cause: err,
    });
  }
}

/** Written to a temporary file, synced, then renamed: a crash leaves the old marker or the new one. */
function writeMarker(dataDir: string, identity: LedgerIdentity): void {
  const path = join(dataDir, MARKER_FILE);
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(identity)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Moves the unusable ledger and its marker aside (kept for inspection) so a new one can start. */
function setAside(o: OpenLedgerOptions): string {
  const suffix = `replaced-${o.now()}`;
  const file = join(o.dataDir, DB_FILE);
  for (const f of [file, `${file}-wal`, `${file}-shm`, join(o.dataDir, MARKER_FILE)]) {
    if (existsSync(f)) renameSync(f, `${f}.${suffix}`);
  }
  return `${file}.${suffix}`;
}
