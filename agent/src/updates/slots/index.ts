export { attachToLauncher, confirmWhenConnected, launchedRelease } from './agent-side';
export { FileReleaseSlots, type FileReleaseSlotsOptions } from './file-slots';
export { Launcher, type LauncherEvent, type LauncherOptions } from './launcher';
export { readPointer } from './pointer';
export { readRelease, releaseEntry, slotDir, writeRelease } from './release-dir';
