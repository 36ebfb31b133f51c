/**
 * Versioning rule (see docs/protocol.md):
 * - Same major, any minor: accepted. Fields a receiver does not know are ignored (stripped);
 *   a message type it does not know is refused with UNKNOWN_MESSAGE_TYPE and, for records, acknowledged
 *   as rejected so the sender stops retrying it.
 * - Another major: refused with UNSUPPORTED_VERSION.
 */
export const PROTOCOL_MAJOR = 1;
/** 1.1: optional envelope `epoch` (ledger id). */
export const PROTOCOL_MINOR = 1;
export const PROTOCOL_VERSION = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}` as const;

const VERSION_RE = /^(\d{1,3})\.(\d{1,3})$/;

export function parseVersion(v: string): { major: number; minor: number } | undefined {
  const m = VERSION_RE.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function isCompatibleVersion(v: string): boolean {
  return parseVersion(v)?.major === PROTOCOL_MAJOR;
}
