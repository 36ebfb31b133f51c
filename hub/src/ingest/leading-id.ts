import { UlidSchema } from '@crema/protocol';

/** How far into an oversized payload the hub looks for its id (docs/protocol.md §3). */
export const ID_SEARCH_BYTES = 8 * 1024;

const VALUE = /^\s*:\s*"([^"\\]{1,64})"/;

/**
 * The top-level `id` of a JSON object read from its first bytes only, for a message too large to parse: it
 * may be cut anywhere. Keys nested deeper (a batch's records have ids too) never match, so a record is
 * never answered in place of its batch.
 */
export function leadingId(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.subarray(0, ID_SEARCH_BYTES)).toString('utf8');
  if (!/^\s*\{/.test(text)) return undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) return undefined;
      if (depth === 1 && text.slice(i + 1, end) === 'id') {
        const value = VALUE.exec(text.slice(end + 1, end + 80))?.[1];
        if (value !== undefined) return UlidSchema.safeParse(value).success ? value : undefined;
      }
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}
