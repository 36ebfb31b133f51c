import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, buildLauncherCli } from '../../../build';
import { writePointer } from '../../../src/updates/slots/pointer';
import { writeRelease } from '../../../src/updates/slots/release-dir';
import { repoRoot } from '../../support';

export type Behaviour = 'good' | 'never-ready' | 'hang' | 'crash';

/** Compiled fixture releases (one file per behaviour) and the launcher CLI, in a private directory. */
export type Builds = { dir: string; release: Record<Behaviour, string>; launcher: string; dispose(): void };

export async function buildFixtures(): Promise<Builds> {
  const dir = mkdtempSync(join(tmpdir(), 'crema-release-builds-'));
  const release = {} as Record<Behaviour, string>;
  for (const behaviour of ['good', 'never-ready', 'hang', 'crash'] as const) {
    const outfile = join(dir, `${behaviour}.mjs`);
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [join(import.meta.dirname, 'fixture-release.ts')],
      outfile,
      define: { RELEASE_BEHAVIOUR: JSON.stringify(behaviour) },
    });
    release[behaviour] = outfile;
  }
  const launcher = join(dir, 'launcher.mjs');
  await buildLauncherCli(launcher);
  return { dir, release, launcher, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A board's layout in a private directory: `<root>/node_modules` (the agent's, linked), a first release in
 * slot a and the pointer at it, as `crema-agent-launcher install` leaves it.
 */
export async function makeLayout(first: string, version = '1.0.0'): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'crema-slots-'));
  symlinkSync(join(repoRoot, 'agent', 'node_modules'), join(root, 'node_modules'), 'dir');
  mkdirSync(join(root, 'slots'), { recursive: true });
  await writeRelease(root, 'a', first, version, Date.now());
  writePointer(root, { v: 1, active: 'a' });
  return root;
}

export type FixtureEntry = {
  pid: number;
  event: 'start' | 'confirmed' | 'activated' | 'upgrade_failed' | 'confirm_failed';
  slot?: string;
  version?: string;
  outcome?: { kind: string; version?: string; fromVersion?: string; reason?: string };
  err?: string;
};

/** What the fixture releases wrote (one JSON line per event). */
export function readLog(file: string): FixtureEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as FixtureEntry);
}

/** Environment a fixture release needs: the broker, its device credential, its log and upgrade files. */
export function fixtureEnv(
  root: string,
  broker: string,
  deviceId: string,
  credential: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FIXTURE_BROKER: broker,
    FIXTURE_DEVICE: deviceId,
    FIXTURE_CREDENTIAL: credential,
    FIXTURE_LOG: join(root, 'fixture.log'),
    FIXTURE_UPGRADE: join(root, 'upgrade.json'),
    CREMA_LOG_LEVEL: 'warn',
  };
}

export const newCredential = () => randomBytes(18).toString('base64url');

/** Runs the compiled launcher CLI as its own process from `<root>/launcher.mjs`, as on a board. */
export function spawnLauncher(
  launcher: string,
  root: string,
  env: NodeJS.ProcessEnv,
  flags: string[] = [],
): ChildProcess {
  const installed = join(root, 'launcher.mjs');
  if (!existsSync(installed)) copyFileSync(launcher, installed);
  return spawn(process.execPath, [installed, '--root', root, ...flags], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Compiles the stager (see stager.ts) into `dir`. */
export async function buildStager(dir: string): Promise<string> {
  const outfile = join(dir, 'stager.mjs');
  await build({ ...BUNDLE_OPTIONS, entryPoints: [join(import.meta.dirname, 'stager.ts')], outfile });
  return outfile;
}
