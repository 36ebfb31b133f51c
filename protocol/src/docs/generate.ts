import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fillMarkers } from './markers';
import { renderBrewer, renderCrc, renderModbus, renderPayment, renderRecipeLimits } from './render-devices';
import {
  renderEnvelope,
  renderErrors,
  renderHttp,
  renderLimits,
  renderPayloads,
  renderSharedObjects,
  renderTopics,
  renderVersion,
} from './render-messages';
import { renderUpdates } from './render-updates';

/** Regenerates the generated sections of docs/protocol.md: `pnpm exec tsx protocol/src/docs/generate.ts`. */
export const DOC_PATH = fileURLToPath(new URL('../../../docs/protocol.md', import.meta.url));
export const REGENERATE_COMMAND = 'pnpm exec tsx protocol/src/docs/generate.ts';

export function renderSections(): Record<string, string> {
  return {
    version: renderVersion(),
    topics: renderTopics(),
    envelope: renderEnvelope(),
    payloads: renderPayloads(),
    objects: renderSharedObjects(),
    http: renderHttp(),
    crc: renderCrc(),
    brewer: renderBrewer(),
    payment: renderPayment(),
    modbus: renderModbus(),
    recipe: renderRecipeLimits(),
    errors: renderErrors(),
    limits: renderLimits(),
    updates: renderUpdates(),
  };
}

export function renderDocument(current: string): string {
  return fillMarkers(current, renderSections());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const current = readFileSync(DOC_PATH, 'utf8');
  const next = renderDocument(current);
  writeFileSync(DOC_PATH, next);
  console.log(next === current ? `${DOC_PATH} is up to date` : `rewrote ${DOC_PATH}`);
}
