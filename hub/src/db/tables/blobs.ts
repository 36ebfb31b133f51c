/** Files kept in the database (migration 0023): `DbArtifactStore`. */
export interface ArtifactBlobsTable {
  upload_id: string;
  /** '' for update artifacts; the namespace's name (e.g. `attachments`) otherwise. */
  namespace: string;
  /** Null while the upload is under way: such a row is invisible to readers. */
  sha256: string | null;
  size: number;
  chunk_size: number;
  started_at: number;
}

/** One fixed-size piece of a file (the last may be shorter), in order from 0. */
export interface ArtifactChunksTable {
  upload_id: string;
  seq: number;
  data: Uint8Array;
}

export interface BlobTables {
  artifact_blobs: ArtifactBlobsTable;
  artifact_chunks: ArtifactChunksTable;
}
