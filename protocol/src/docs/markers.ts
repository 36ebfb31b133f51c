import { ProtocolError } from '../errors';

const MARKER_RE = /<!-- generated:([a-z0-9-]+) -->[\s\S]*?<!-- \/generated:\1 -->/g;

/**
 * Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` with the section NAME,
 * leaving everything outside the markers (the hand-written prose) untouched. A marker without a section, or a
 * section without a marker, is an error so that nothing silently goes missing.
 */
export function fillMarkers(doc: string, sections: Readonly<Record<string, string>>): string {
  const seen = new Set<string>();
  const out = doc.replace(MARKER_RE, (_all, name: string) => {
    const content = sections[name];
    if (content === undefined)
      throw new ProtocolError('VALIDATION_FAILED', `no generator for section ${name}`);
    seen.add(name);
    return `<!-- generated:${name} -->\n${content}\n<!-- /generated:${name} -->`;
  });
  const missing = Object.keys(sections).filter((name) => !seen.has(name));
  if (missing.length > 0)
    throw new ProtocolError('VALIDATION_FAILED', `docs/protocol.md lacks markers for: ${missing.join(', ')}`);
  return out;
}
