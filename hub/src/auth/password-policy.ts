import { COMMON_PASSWORDS } from './common-passwords';

/** What a password must not be built from besides common words: the account's own email and name. */
export interface PasswordContext {
  email?: string | null;
  name?: string | null;
}

export const MIN_PASSWORD_LENGTH = 12;

const COMMON = new Set(COMMON_PASSWORDS);
const SUBSTITUTIONS: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
};
/** Adjacent keys and letters: a run along any of these reads as a sequence. */
const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  'qwertzuiop',
];

/** `text` is one short unit repeated ("abcabcabc", "passwordpassword"); returns the unit, or null. */
function repeatedUnit(text: string): string | null {
  for (let size = 1; size <= text.length / 2; size++) {
    if (text.length % size !== 0) continue;
    const unit = text.slice(0, size);
    if (unit.repeat(text.length / size) === text) return unit;
  }
  return null;
}

function adjacent(a: string, b: string): boolean {
  return SEQUENCES.some((seq) => {
    const i = seq.indexOf(a);
    return i >= 0 && (seq[i + 1] === b || (i > 0 && seq[i - 1] === b));
  });
}

/** Share of characters inside runs of ≥ 3 adjacent keys or letters, forwards or backwards. */
function sequenceShare(text: string): number {
  let covered = 0;
  let run = 1;
  for (let i = 1; i <= text.length; i++) {
    const prev = text[i - 1] ?? '';
    const cur = text[i];
    if (cur !== undefined && adjacent(prev, cur)) {
      run++;
      continue;
    }
    if (run >= 3) covered += run;
    run = 1;
  }
  return covered / text.length;
}

/** The password with padding (digits, symbols, spaces) removed and letter substitutions undone. */
function baseWord(lower: string): string {
  const unpadded = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  return [...unpadded]
    .map((ch) => SUBSTITUTIONS[ch] ?? ch)
    .join('')
    .replace(/[^a-z]/g, '');
}

/**
 * Why the password is too easy to guess, or null when it is acceptable. Length first (NIST SP 800-63B:
 * no composition rules), then what guessing tools try first: breached/common passwords and words padded
 * with digits or symbols, repeats, keyboard and alphabet sequences, and the account's own email or name.
 */
export function passwordWeakness(password: string, context: PasswordContext = {}): string | null {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const squeezed = lower.replace(/\s+/g, '');
  const base = baseWord(squeezed);
  if (COMMON.has(squeezed) || COMMON.has(base)) return 'a commonly used password';
  const unit = repeatedUnit(squeezed) ?? (base.length > 0 ? repeatedUnit(base) : null);
  if (unit !== null && (unit.length <= 4 || COMMON.has(unit) || COMMON.has(baseWord(unit))))
    return 'a repeated pattern';
  if (new Set(squeezed).size < 5) return 'too few different characters';
  if (sequenceShare(squeezed) >= 0.6) return 'a keyboard or alphabet sequence';
  const parts: string[] = [];
  const email = context.email?.toLowerCase();
  // The local part and its pieces; the domain ("gmail", "example") says nothing about this account.
  const local = email?.split('@')[0];
  if (email && local) parts.push(email, local, ...local.split(/[.+_-]/));
  if (context.name) parts.push(...context.name.toLowerCase().split(/\s+/));
  for (const part of parts) {
    if (part.length >= 4 && (squeezed.includes(part) || base.includes(part)))
      return 'contains your email address or name';
  }
  return null;
}
