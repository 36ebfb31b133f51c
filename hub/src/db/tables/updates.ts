/** Tables of updates: artifacts now; rollouts join them (same conventions as the core). */
export interface ArtifactsTable {
  /** sha256 (hex) of the file: its identity and its name in the artifact store. */
  sha256: string;
  kind: string;
  version: string;
  /** JSON array of machine model ids. */
  models: string;
  size: number;
  min_version: string;
  notes: string;
  /** The signed manifest (compact JWS) devices receive in upgrade commands. */
  manifest_jws: string;
  signed_kid: string;
  uploaded_by: string;
  created_at: number;
}

export interface UpdatesTables {
  artifacts: ArtifactsTable;
}
