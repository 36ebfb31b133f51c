import type { z } from 'zod';
import { type Decoded, decoded, ProtocolError, rejected } from '../errors';
import { Limits } from '../limits';
import { crc16Hex } from './crc16';

/**
 * Newline-framed text shared by the brewer and the payment terminal:
 *
 *   <prefix><id> <VERB>[ <key>=<value>]...*<crc>\n
 *
 * prefix `>` request (agent to device), `<` reply (same id as its request), `!` unsolicited event
 * (id counts events); id 4 hex digits; crc is CRC-16/CCITT-FALSE of everything before `*`, 4 hex digits.
 * Values are percent-encoded outside [A-Za-z0-9._:-] and may be empty.
 */
export type FrameKind = 'request' | 'reply' | 'event';
export type Frame = { kind: FrameKind; id: number; verb: string; args: Record<string, string> };

const PREFIX: Record<FrameKind, string> = { request: '>', reply: '<', event: '!' };
const KIND_OF: Record<string, FrameKind> = { '>': 'request', '<': 'reply', '!': 'event' };

const BODY_RE =
  /^([><!])([0-9A-F]{4}) ([A-Z][A-Z_]{0,15})((?: [a-z][a-z0-9_]{0,15}=[A-Za-z0-9._:%-]{0,96})*)$/;
const ARG_RE = / ([a-z][a-z0-9_]{0,15})=([A-Za-z0-9._:%-]{0,96})/g;
const VERB_RE = /^[A-Z][A-Z_]{0,15}$/;
const KEY_RE = /^[a-z][a-z0-9_]{0,15}$/;
const MAX_VALUE = 96;

/** Which verbs a dialect accepts per frame kind, each with the schema of its arguments. */
export type Dialect = Record<FrameKind, Record<string, z.ZodType<Record<string, unknown>>>>;

/**
 * Serialises a frame. Throws ProtocolError for a frame no receiver could decode (bad verb or key, a value over
 * 96 characters once encoded, a line over Limits.lineBytes): bad output is a programming error.
 */
export function encodeFrame(frame: Frame): string {
  if (!VERB_RE.test(frame.verb)) throw new ProtocolError('LINE_MALFORMED', `verb ${frame.verb.slice(0, 20)}`);
  let args = '';
  for (const [k, v] of Object.entries(frame.args)) {
    const value = encodeValue(String(v));
    if (!KEY_RE.test(k) || value.length > MAX_VALUE)
      throw new ProtocolError('LINE_MALFORMED', `argument ${k.slice(0, 20)}`);
    args += ` ${k}=${value}`;
  }
  const body = `${PREFIX[frame.kind]}${(frame.id & 0xffff).toString(16).toUpperCase().padStart(4, '0')} ${frame.verb}${args}`;
  const line = `${body}*${crc16Hex(body)}\n`;
  if (line.length > Limits.lineBytes) throw new ProtocolError('LINE_TOO_LONG', `${line.length} bytes`);
  return line;
}

/**
 * Free text (`msg`) cut to fit one value: at most 96 characters once percent-encoded, never splitting a
 * character's escape. What is cut is the end of the text, so the start (e.g. an error code) survives.
 */
export function clipValue(text: string, max = MAX_VALUE): string {
  let out = '';
  let length = 0;
  for (const ch of text) {
    const encoded = encodeValue(ch).length;
    if (length + encoded > max) break;
    out += ch;
    length += encoded;
  }
  return out;
}

function encodeValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._:-]/gu, (ch) =>
    Array.from(new TextEncoder().encode(ch), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(
      '',
    ),
  );
}

/** Decodes one line (with or without its terminator) against a dialect; every failure is a coded error. */
export function decodeFrame<T extends Frame = Frame>(line: string, dialect: Dialect): Decoded<T> {
  const text = line.replace(/\r?\n$|\r$/, '');
  if (text.length + 1 > Limits.lineBytes) return rejected('LINE_TOO_LONG', `${text.length} characters`);
  const star = text.lastIndexOf('*');
  if (star < 0 || text.length - star - 1 < 4) return rejected('LINE_TRUNCATED');
  const body = text.slice(0, star);
  const crc = text.slice(star + 1);
  if (!/^[0-9A-Fa-f]{4}$/.test(crc)) return rejected('LINE_MALFORMED', 'checksum is not 4 hex digits');
  if (crc16Hex(body) !== crc.toUpperCase()) return rejected('LINE_BAD_CHECKSUM');
  const m = BODY_RE.exec(body);
  if (!m) return rejected('LINE_MALFORMED', body.slice(0, 60));
  const kind = KIND_OF[m[1] ?? ''] as FrameKind;
  const verb = m[3] ?? '';
  const schema = dialect[kind][verb];
  if (!schema) return rejected('LINE_UNKNOWN_VERB', `${kind} ${verb}`);
  const raw: Record<string, string> = {};
  for (const [, k = '', v = ''] of (m[4] ?? '').matchAll(ARG_RE)) {
    try {
      raw[k] = decodeURIComponent(v);
    } catch {
      return rejected('LINE_MALFORMED', `bad escape in ${k}`);
    }
  }
  const args = schema.safeParse(raw);
  if (!args.success)
    return rejected('VALIDATION_FAILED', `${verb}: ${args.error.issues[0]?.message ?? 'bad arguments'}`);
  return decoded({ kind, id: Number.parseInt(m[2] ?? '0', 16), verb, args: args.data } as T);
}

/**
 * Splits a byte stream into lines, refusing overlong ones: after an overlong line it reports
 * LINE_TOO_LONG once and discards bytes up to the next newline, so one bad line never eats the next.
 */
export class LineSplitter {
  private buffer = '';
  private discarding = false;

  push(chunk: string): Array<{ line: string } | { error: 'LINE_TOO_LONG' }> {
    const out: Array<{ line: string } | { error: 'LINE_TOO_LONG' }> = [];
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (this.discarding) this.discarding = false;
      else if (line.length + 1 > Limits.lineBytes) out.push({ error: 'LINE_TOO_LONG' });
      else out.push({ line });
      nl = this.buffer.indexOf('\n');
    }
    if (!this.discarding && this.buffer.length + 1 > Limits.lineBytes) {
      out.push({ error: 'LINE_TOO_LONG' });
      this.discarding = true;
    }
    if (this.discarding) this.buffer = '';
    return out;
  }
}
