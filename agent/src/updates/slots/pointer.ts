import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../../errors';
import type { SlotName } from '../release-slots';
import { writeFileDurably } from './durable-file';

export const SlotNameSchema = z.enum(['a', 'b']);

/** A freshly activated release on probation: it runs until it confirms, or until the launcher gives up on it. */
export const TrialSchema = z.object({
  slot: SlotNameSchema,
  version: z.string().min(1),
  /** The release the trial replaces, started again if the trial fails. */
  from: z.object({ slot: SlotNameSchema, version: z.string().min(1) }),
  activatedAt: z.number().int(),
  /** Starts of the trial release so far, counted before each start so a power cut mid-start counts too. */
  attempts: z.number().int().nonnegative(),
  /** How the last start of the trial ended (e.g. `exit code 1`), for the rollback reason. */
  lastExit: z.string().optional(),
});

/** How the last update ended; kept until the next `stage()` so that the agent can report it. */
export const LastUpdateSchema = z.object({
  kind: z.enum(['confirmed', 'rolled_back']),
  version: z.string().min(1),
  fromVersion: z.string().min(1),
  reason: z.string().optional(),
  at: z.number().int(),
});

/** `<root>/state.json`: which slot the launcher starts, and the trial in progress if any. */
export const PointerSchema = z.object({
  v: z.literal(1),
  active: SlotNameSchema,
  trial: TrialSchema.optional(),
  last: LastUpdateSchema.optional(),
});

export type Trial = z.infer<typeof TrialSchema>;
export type LastUpdate = z.infer<typeof LastUpdateSchema>;
export type Pointer = z.infer<typeof PointerSchema>;

export const otherSlot = (slot: SlotName): SlotName => (slot === 'a' ? 'b' : 'a');

export function pointerFile(root: string): string {
  return join(root, 'state.json');
}

/** The pointer, or undefined when the layout has none yet (fresh install). A damaged pointer throws. */
export function readPointer(root: string): Pointer | undefined {
  const file = pointerFile(root);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AgentError('UPDATE_IMAGE_INVALID', `release pointer ${file} is not JSON`, { cause });
  }
  const parsed = PointerSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgentError('UPDATE_IMAGE_INVALID', `release pointer ${file} is invalid`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

export function writePointer(root: string, pointer: Pointer): void {
  writeFileDurably(pointerFile(root), `${JSON.stringify(PointerSchema.parse(pointer))}\n`);
}
