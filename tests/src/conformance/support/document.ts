import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `docs/protocol.md`, the contract these tests hold the hub to. The numbers a test uses come from the
 * document's own tables, so a change to the document that the hub does not follow (or the reverse) fails.
 */
export const PROTOCOL_DOC = readFileSync(
  fileURLToPath(new URL('../../../../docs/protocol.md', import.meta.url)),
  'utf8',
);

/** A value from the size limits table (§13). */
export function docLimit(name: string): number {
  const row = new RegExp(`^\\| \`${name}\` \\| (\\d+) \\|`, 'm').exec(PROTOCOL_DOC);
  if (!row?.[1]) throw new Error(`docs/protocol.md has no limit ${name}`);
  return Number(row[1]);
}

/** The text of one section, from its heading to the next heading of the same or a higher level. */
export function docSection(heading: string): string {
  const start = PROTOCOL_DOC.indexOf(heading);
  if (start < 0) throw new Error(`docs/protocol.md has no section "${heading}"`);
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const rest = PROTOCOL_DOC.slice(start + heading.length);
  const next = new RegExp(`^#{1,${level}} `, 'm').exec(rest);
  return heading + (next ? rest.slice(0, next.index) : rest);
}

/** The rows of the first table in `text` as records keyed by the header cells (backticks removed). */
export function tableRows(text: string): Record<string, string>[] {
  const all = text.split('\n');
  const start = all.findIndex((l) => l.startsWith('|'));
  const end = all.findIndex((l, i) => i > start && !l.startsWith('|'));
  const lines = start < 0 ? [] : all.slice(start, end < 0 ? undefined : end);
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim().replaceAll('`', ''));
  const [header, , ...rows] = lines;
  if (!header) return [];
  const keys = cells(header);
  return rows.map((r) => Object.fromEntries(cells(r).map((c, i) => [keys[i] ?? String(i), c])));
}
