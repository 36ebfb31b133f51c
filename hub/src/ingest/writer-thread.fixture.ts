import { existsSync, writeFileSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type { ToWriter, WriterData } from './writer-protocol';
import { serveWriter as serveRealWriter } from './writer-worker';

/**
 * A writer thread for tests that crashes (an uncaught error) at its first batch: always while
 * `<file>.crash-always` exists, once while `<file>.crash-once` does not (creating it). While `<file>.hang`
 * exists it never answers instead. Otherwise the real one.
 */
export function serveWriter(port: MessagePort, data: WriterData): void {
  if (existsSync(`${data.file}.hang`)) {
    port.postMessage({ type: 'ready' });
    port.on('message', () => undefined);
    return;
  }
  const always = existsSync(`${data.file}.crash-always`);
  const once = `${data.file}.crash-once`;
  if (!always && existsSync(once)) {
    serveRealWriter(port, data);
    return;
  }
  port.on('message', (message: ToWriter) => {
    if (message.type !== 'write') return;
    if (!always) writeFileSync(once, '');
    throw new Error('writer thread crash (test)');
  });
  port.postMessage({ type: 'ready' });
}
