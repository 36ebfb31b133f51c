import { HubError } from '../../errors';

/** The only kinds of file a work order takes: photos and manuals. Anything else (SVG, HTML, …) is refused. */
export const ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/** Bytes needed to tell the types apart (WebP's RIFF header is the longest). */
const HEAD_BYTES = 12;

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The type the leading bytes say, or undefined: the name and the declared type are never consulted. */
export function sniffType(head: Uint8Array): AttachmentType | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'image/webp';
  if (startsWith(head, ascii('%PDF-'))) return 'application/pdf';
  return undefined;
}

/**
 * Passes the bytes through, deciding the type from the first ones as they arrive: an unknown type is refused
 * (ATTACHMENT_TYPE_UNSUPPORTED) before the rest is read. `type()` answers once the stream is done.
 */
export function typedStream(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): {
  stream: AsyncGenerator<Uint8Array>;
  type: () => AttachmentType;
} {
  let decided: AttachmentType | undefined;
  async function* stream(): AsyncGenerator<Uint8Array> {
    let head = new Uint8Array(0);
    for await (const chunk of bytes) {
      if (decided === undefined) {
        const joined = new Uint8Array(head.length + chunk.length);
        joined.set(head);
        joined.set(chunk, head.length);
        head = joined;
        if (head.length < HEAD_BYTES) continue;
        decided = refuseUnknown(sniffType(head));
        yield head;
        continue;
      }
      yield chunk;
    }
    if (decided === undefined) {
      decided = refuseUnknown(sniffType(head));
      if (head.length > 0) yield head;
    }
  }
  return {
    stream: stream(),
    type: () => {
      if (decided === undefined) throw new HubError('VALIDATION_FAILED', 'the file is empty');
      return decided;
    },
  };
}

function refuseUnknown(type: AttachmentType | undefined): AttachmentType {
  if (type === undefined)
    throw new HubError(
      'ATTACHMENT_TYPE_UNSUPPORTED',
      'only JPEG, PNG and WebP images and PDF documents are taken',
    );
  return type;
}

export const EXTENSIONS: Record<AttachmentType, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'application/pdf': '.pdf',
};
