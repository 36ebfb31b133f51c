import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrewerDialect } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { LineClient } from './helpers/line-client';

/**
 * The simulator's brewer checked against docs/protocol.md as a reader of the document would: the tables,
 * example lines and stated rules are parsed from the Markdown, and the simulator's raw output over a real pty
 * is held to them. Nothing here asks the implementation what the rule is.
 */
const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end, from + start.length);
  if (from < 0 || to < 0) throw new Error(`docs/protocol.md has no section ${start}`);
  return text.slice(from + start.length, to);
}

const brewerDoc = between(doc, '<!-- generated:brewer -->', '<!-- /generated:brewer -->');
const crcDoc = between(doc, '<!-- generated:crc -->', '<!-- /generated:crc -->');

/** Rows of the first table after `heading`, as cells without the outer pipes. */
function table(section: string, heading: string): string[][] {
  const lines = section.slice(section.indexOf(heading)).split('\n');
  const rows: string[][] = [];
  for (const line of lines.slice(1)) {
    if (rows.length > 0 && !line.startsWith('|')) break;
    if (!line.startsWith('|') || line.startsWith('|---')) continue;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows.slice(1);
}

/** The code blocks (```text) of a section, each as its lines. */
const codeBlocks = (section: string) =>
  [...section.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim().split('\n'));

/** A raw line split as the document's grammar says: prefix, id, verb, key=value pairs (values still encoded). */
function parseRaw(line: string) {
  const m = /^([><!])([0-9A-F]{4}) ([A-Z_]+)((?: [a-z0-9_]+=[^ *]*)*)\*([0-9A-F]{4})$/.exec(line.trim());
  if (!m) throw new Error(`not a line of the grammar: ${line}`);
  const args: Record<string, string> = {};
  for (const pair of (m[4] ?? '').trim().split(' ').filter(Boolean)) {
    const eq = pair.indexOf('=');
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { prefix: m[1], id: m[2], verb: m[3], args };
}

// The value rule as the document words it: "outside `[A-Za-z0-9._:-]`" → percent-encoded UTF-8 bytes.
const safeSet = /outside `(\[[^\]]+\])`/.exec(crcDoc)?.[1];
const SAFE = new RegExp(`^${safeSet}$`);
const docEncode = (text: string) =>
  [...text]
    .map((ch) =>
      SAFE.test(ch)
        ? ch
        : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase()}`).join(''),
    )
    .join('');
const docDecode = (raw: string) => decodeURIComponent(raw);

/** Backticked names in a table cell, e.g. the values an OK reply carries. */
const names = (cell: string) => [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);

describe('brewer line against docs/protocol.md (real pty)', () => {
  let sim: Simulator;
  let client: LineClient;

  beforeAll(async () => {
    sim = await startSimulator({ timeScale: 20, seed: 3, initialTempC: 93 });
    client = await LineClient.serial(sim.endpoints.serial.pty!, BrewerDialect);
  });
  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  const rawReply = async (id: number) =>
    (await client.waitFor((l) => l.raw.startsWith(`<${id.toString(16).toUpperCase().padStart(4, '0')} `)))
      .raw;

  it('the document states its value rule and its own worked example follows it', () => {
    expect(safeSet).toBe('[A-Za-z0-9._:-]');
    const example = /`msg=([^`]+)` is sent as `([^`]+)`/.exec(crcDoc);
    expect(example).not.toBeNull();
    const wire = parseRaw(example?.[2] ?? '');
    expect(wire.args.msg).toBe(docEncode(example?.[1] ?? ''));
  });

  it('INFO and STATUS carry exactly the values the requests table lists, `faults` included when empty', async () => {
    const requests = new Map(table(brewerDoc, 'Requests').map((r) => [r[0]?.replace(/`/g, ''), r]));
    for (const verb of ['INFO', 'STATUS']) {
      const documented = names(requests.get(verb)?.[2] ?? '');
      expect(documented.length).toBeGreaterThan(2);
      const id = client.send(verb);
      const reply = parseRaw(await rawReply(id));
      expect(reply.verb).toBe('OK');
      expect(Object.keys(reply.args).sort(), `${verb} values`).toEqual([...documented].sort());
    }
    expect(sim.model.activeFaults()).toEqual([]);
  });

  it('a long step sends PROGRESS with `op` as the example shows it, and the OK values of the example', async () => {
    const [exchange] = codeBlocks(brewerDoc);
    const lines = (exchange ?? []).map(parseRaw);
    const request = lines.find((l) => l.prefix === '>' && l.verb === 'BREW');
    const progress = lines.find((l) => l.prefix === '!' && l.verb === 'PROGRESS');
    const ok = lines.find((l) => l.prefix === '<' && l.id === request?.id);
    // The document's example: the PROGRESS of a BREW names it `op=BREW`.
    expect(progress?.args.op).toBe(request?.verb);

    expect((await client.request('CUP')).verb).toBe('OK');
    expect((await client.request('GRIND', { g: 16 })).verb).toBe('OK');
    const seen = client.lines.length;
    const id = client.send('BREW', request?.args ?? {});
    const reply = parseRaw(await rawReply(id));
    const events = client.lines
      .slice(seen)
      .filter((l) => l.raw.startsWith('!'))
      .map((l) => parseRaw(l.raw))
      .filter((e) => e.verb === 'PROGRESS');
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.args.op).toBe(progress?.args.op);
    expect(reply.verb).toBe(ok?.verb);
    expect(Object.keys(reply.args).sort()).toEqual(Object.keys(ok?.args ?? {}).sort());
    await client.request('DISPENSE');
  });

  it('answers the bad requests of the document as it shows, with `msg` encoded by the value rule', async () => {
    const [, bad] = codeBlocks(brewerDoc);
    const lines = bad ?? [];
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines.filter((l) => l.startsWith('>'))) {
      const request = parseRaw(line);
      const expected = lines.map(parseRaw).find((l) => l.prefix === '<' && l.id === request.id);
      client.writeLine(`${line}\n`);
      const raw = await rawReply(Number.parseInt(request.id ?? '0', 16));
      const reply = parseRaw(raw);
      expect(reply.verb).toBe(expected?.verb);
      expect(reply.args.code).toBe(expected?.args.code);
      const msg = docDecode(reply.args.msg ?? '');
      const documentedLead = docDecode(expected?.args.msg ?? '').split(':')[0];
      expect(msg.split(':')[0], raw).toBe(documentedLead);
      // Encoded exactly as the document's rule says, spaces included (never replaced by another character).
      expect(reply.args.msg).toBe(docEncode(msg));
      expect(msg).toContain(' ');
    }
  });

  it('drops a line with a bad checksum without a reply, as the document says', async () => {
    expect(brewerDoc).toContain('Any other bad line (checksum, framing, length) is dropped without a reply');
    client.writeLine('>0040 PING*0000\n');
    const id = client.send('PING');
    await rawReply(id);
    expect(client.lines.some((l) => l.raw.startsWith('<0040 '))).toBe(false);
  });
});
