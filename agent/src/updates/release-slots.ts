/** The two release slots of the agent on a board (docs in agent/README.md, "Self-update"). */
export type SlotName = 'a' | 'b';

/** What the launcher did at this start, so the agent can report the end of an update it began. */
export type StartOutcome =
  | { kind: 'normal' }
  /** This start is the trial of a freshly activated release; it becomes permanent on `confirm()`. */
  | { kind: 'trial'; version: string; fromVersion: string }
  /** A trial release failed (did not get ready, crashed, timed out) and the previous one runs again. */
  | { kind: 'rolled_back'; version: string; fromVersion: string; reason: string };

/**
 * The agent's view of its release slots (implemented in `updates/slots/`, used by the `upgrade_agent`
 * handler). Every change is atomic on disk: a power cut at any moment leaves a release that starts.
 */
export interface ReleaseSlots {
  running(): { slot: SlotName; version: string };
  /** Copies a verified release file into the inactive slot; does not switch. */
  stage(file: string, version: string): Promise<void>;
  /** Points the launcher at the staged slot for a trial start; the caller then exits to be restarted. */
  activate(version: string): Promise<void>;
  /** Called by a trial release once it is ready and connected to the hub: the trial becomes permanent. */
  confirm(): Promise<void>;
  outcome(): StartOutcome;
}
