import { HubError } from '../errors';

/** Bytes of part headers we read before giving up: a part's headers are a few hundred bytes. */
const MAX_HEAD = 8 * 1024;

/** The boundary of a `multipart/form-data` content type, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new HubError('VALIDATION_FAILED', 'the multipart body has no boundary');
  return boundary;
}

/**
 * The first file part (`name="file"`) of a multipart body, streamed: its bytes flow on as they arrive and
 * are never gathered whole, so the store's size limit still refuses a large file while it streams. Other
 * parts before it are skipped; everything after it is ignored. `fileName()` is known once bytes flow.
 */
export function multipartFile(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
): { stream: AsyncGenerator<Uint8Array>; fileName: () => string | undefined } {
  let name: string | undefined;
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  async function* stream(): AsyncGenerator<Uint8Array> {
    // The body starts with `--boundary`; prefixing CRLF lets one delimiter pattern find every boundary.
    let buf: Buffer = Buffer.from('\r\n');
    let inFile = false;
    for await (const chunk of body) {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!inFile) {
          const start = buf.indexOf(delimiter);
          const headEnd = start < 0 ? -1 : buf.indexOf('\r\n\r\n', start + delimiter.length);
          if (headEnd < 0) {
            if (buf.length > MAX_HEAD + delimiter.length)
              throw new HubError('VALIDATION_FAILED', 'the multipart part headers are too long');
            break;
          }
          const head = buf.subarray(start + delimiter.length, headEnd).toString('utf8');
          buf = buf.subarray(headEnd + 4);
          const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
          if (/;\s*name="file"/i.test(disposition)) {
            inFile = true;
            name = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
          }
          continue;
        }
        const end = buf.indexOf(delimiter);
        if (end >= 0) {
          if (end > 0) yield buf.subarray(0, end);
          return;
        }
        // Keep what could be the start of a delimiter split across chunks.
        const keep = Math.min(buf.length, delimiter.length - 1);
        if (buf.length > keep) {
          yield buf.subarray(0, buf.length - keep);
          buf = buf.subarray(buf.length - keep);
        }
        break;
      }
    }
    throw new HubError(
      'VALIDATION_FAILED',
      inFile ? 'the multipart body ends inside the file' : 'the multipart body has no "file" part',
    );
  }
  return { stream: stream(), fileName: () => name };
}
