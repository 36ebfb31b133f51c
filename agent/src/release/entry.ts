import { fileURLToPath } from 'node:url';
import { runProgram } from './program';

// Set by agent/build.ts: the agent as CommonJS source, and its SHA-256.
declare const __CREMA_PROGRAM__: string;
declare const __CREMA_PROGRAM_SHA256__: string;

/** The release file's own code: runs the agent it carries (see program.ts). */
runProgram({
  source: __CREMA_PROGRAM__,
  sha256: __CREMA_PROGRAM_SHA256__,
  file: fileURLToPath(import.meta.url),
});
