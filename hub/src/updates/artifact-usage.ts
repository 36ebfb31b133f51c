/**
 * What the rollouts know about artifacts, asked by the artifact routes: the artifact module stores files and
 * serves them; the rollouts module decides who is offered what. Implemented by `updates/rollouts/`.
 */
export interface ArtifactUsage {
  /** True while an unfinished rollout names the artifact: it may not be deleted. */
  inUse(sha256: string): Promise<boolean>;
  /** True when a rollout offers the artifact to this device: only then may the device download it. */
  offeredTo(deviceId: string, sha256: string): Promise<boolean>;
}
