import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../../errors';
import type { SlotName } from '../release-slots';
import { copyFileDurably, removeDurably, writeFileDurably } from './durable-file';

/** The agent program in a slot: the single ES module `agent/build.ts` produces. */
export const RELEASE_FILE = 'agent.mjs';
/** Written last when a slot is filled: its presence means the program beside it is complete. */
export const RELEASE_META = 'release.json';

export const ReleaseMetaSchema = z.object({
  version: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  stagedAt: z.number().int(),
});
export type ReleaseMeta = z.infer<typeof ReleaseMetaSchema>;

export function slotDir(root: string, slot: SlotName): string {
  return join(root, 'slots', slot);
}

export function releaseEntry(root: string, slot: SlotName): string {
  return join(slotDir(root, slot), RELEASE_FILE);
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The release in `slot` after checking that its program is there and matches the hash recorded at staging;
 * a slot half-written by a power cut or damaged on disk throws UPDATE_IMAGE_INVALID.
 */
export function readRelease(root: string, slot: SlotName): ReleaseMeta {
  const dir = slotDir(root, slot);
  const metaFile = join(dir, RELEASE_META);
  if (!existsSync(metaFile)) {
    throw new AgentError('UPDATE_IMAGE_INVALID', `slot ${slot} holds no complete release (${metaFile})`);
  }
  let meta: ReleaseMeta;
  try {
    meta = ReleaseMetaSchema.parse(JSON.parse(readFileSync(metaFile, 'utf8')));
  } catch (cause) {
    throw new AgentError('UPDATE_IMAGE_INVALID', `slot ${slot}: ${metaFile} is damaged`, { cause });
  }
  const entry = join(dir, RELEASE_FILE);
  if (!existsSync(entry) || statSync(entry).size !== meta.size || sha256(entry) !== meta.sha256) {
    throw new AgentError('UPDATE_IMAGE_INVALID', `slot ${slot}: ${entry} does not match its release.json`);
  }
  return meta;
}

/** The release in `slot`, or undefined when it is missing or damaged. */
export function tryReadRelease(root: string, slot: SlotName): ReleaseMeta | undefined {
  try {
    return readRelease(root, slot);
  } catch {
    return undefined;
  }
}

/**
 * Fills `slot` with the program `file`: release.json goes first (the slot is then "empty" to every reader),
 * the program is copied durably, and the new release.json, written last, makes it a release again.
 */
export async function writeRelease(
  root: string,
  slot: SlotName,
  file: string,
  version: string,
  now: number,
): Promise<ReleaseMeta> {
  const dir = slotDir(root, slot);
  mkdirSync(dir, { recursive: true });
  removeDurably(join(dir, RELEASE_META));
  await copyFileDurably(file, join(dir, RELEASE_FILE));
  const entry = join(dir, RELEASE_FILE);
  const meta: ReleaseMeta = { version, sha256: sha256(entry), size: statSync(entry).size, stagedAt: now };
  writeFileDurably(join(dir, RELEASE_META), `${JSON.stringify(meta)}\n`);
  return meta;
}
