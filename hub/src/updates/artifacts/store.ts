import type { Readable } from 'node:stream';

/** A byte range of a stored file, both ends inclusive (as in HTTP `Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** Refuse (ARTIFACT_HASH_MISMATCH) when the bytes do not hash to this; nothing is kept. */
  expectedSha256?: string;
  /** Refuse (PAYLOAD_TOO_LARGE) past this many bytes; nothing is kept. */
  maxBytes: number;
}

export interface StoredArtifact {
  sha256: string;
  size: number;
}

/**
 * Where artifact bytes live, content-addressed by sha256: files on the hub's own disk (`FsArtifactStore`, the
 * default on SQLite) or chunks in the database every hub process shares (`DbArtifactStore`, the default on
 * PostgreSQL); another shared store (an object store) would implement the same calls. One contract test
 * (`store-contract.test.ts`) runs against each.
 * Storing the same bytes twice is harmless: the address is the content.
 */
export interface ArtifactStore {
  /** Streams the bytes in; resolves once they are durable under their sha256. Nothing stays on refusal. */
  put(bytes: AsyncIterable<Uint8Array>, options: PutOptions): Promise<StoredArtifact>;
  /** The size of a stored file, or undefined when there is none. */
  stat(sha256: string): Promise<{ size: number } | undefined>;
  /** The bytes (or a range of them); undefined when there is no such file. */
  read(sha256: string, range?: ByteRange): Promise<Readable | undefined>;
  delete(sha256: string): Promise<void>;
  exists(sha256: string): Promise<boolean>;
  /**
   * A store of the same kind for another sort of blob (work-order attachments), with an address space of its
   * own: the same bytes there and here are two files, and deleting one never touches the other.
   */
  namespace(name: string): ArtifactStore;
}
