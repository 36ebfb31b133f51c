/**
 * A reader of DEX/UCS audit files for tests, written apart from the hub's writer: it checks the envelope
 * (DXS … ST … G85, SE, DXE, CRLF line ends), recomputes the G85 CRC with its own table-driven CRC-16
 * (x¹⁶+x¹⁵+x²+1, reflected, initial 0) over ST … the line before G85, and counts the segments SE declares.
 */
export interface ParsedDex {
  segments: string[][];
  /** Every segment of an id, in order (`PA1` → its fields, the id excluded). */
  all(id: string): string[][];
  /** The one segment of an id; throws when there is none or more than one. */
  one(id: string): string[];
}

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  return c;
});

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ b) & 0xff] ?? 0);
  return crc;
}

export function parseDex(text: string): ParsedDex {
  if (!text.endsWith('\r\n')) throw new Error('the file must end with CRLF');
  const lines = text.slice(0, -2).split('\r\n');
  for (const l of lines) {
    if (l.includes('\n') || l.includes('\r')) throw new Error(`bare line break in ${JSON.stringify(l)}`);
    if (!/^[\x20-\x7e]+$/.test(l)) throw new Error(`non-printable character in ${JSON.stringify(l)}`);
  }
  const segments = lines.map((l) => l.split('*'));
  const ids = segments.map((s) => s[0]);
  if (ids[0] !== 'DXS' || ids[1] !== 'ST') throw new Error('the file must start with DXS, ST');
  if (ids.at(-1) !== 'DXE' || ids.at(-2) !== 'SE' || ids.at(-3) !== 'G85')
    throw new Error('the file must end with G85, SE, DXE');
  const g85 = segments.at(-3)?.[1] ?? '';
  const covered = `${lines.slice(1, -3).join('\r\n')}\r\n`;
  const expected = crc16(new TextEncoder().encode(covered)).toString(16).toUpperCase().padStart(4, '0');
  if (g85 !== expected) throw new Error(`G85 ${g85} does not match the data (CRC ${expected})`);
  const se = segments.at(-2) ?? [];
  const transaction = lines.length - 2; // ST … SE
  if (Number(se[1]) !== transaction) throw new Error(`SE says ${se[1]} segments, the set has ${transaction}`);
  if (se[2] !== segments[1]?.[2]) throw new Error('SE02 must repeat ST02');
  const all = (id: string) => segments.filter((s) => s[0] === id).map((s) => s.slice(1));
  return {
    segments,
    all,
    one(id) {
      const found = all(id);
      if (found.length !== 1) throw new Error(`${found.length} ${id} segments`);
      return found[0] ?? [];
    },
  };
}

/** PA1/PA2/PA4 grouped per product line: `espresso.M@250` → { pa2, pa4 }. */
export function productLines(dex: ParsedDex): Map<string, { pa2: number[]; pa4?: number[] }> {
  const out = new Map<string, { pa2: number[]; pa4?: number[] }>();
  let current: { pa2: number[]; pa4?: number[] } | undefined;
  for (const [id, ...f] of dex.segments) {
    if (id === 'PA1') {
      current = { pa2: [] };
      out.set(`${f[0]}@${f[1]}`, current);
    } else if (id === 'PA2' && current) current.pa2 = f.map(Number);
    else if (id === 'PA4' && current) current.pa4 = f.map(Number);
  }
  return out;
}
