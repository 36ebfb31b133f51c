import { BootloaderSlotsSchema, FLASH_CHUNK_BYTES } from '../line/bootloader';
import { crc16Bytes } from '../line/crc16';
import { encodeFrame, type Frame } from '../line/frame';
import { ArtifactManifestSchema } from '../updates/manifest';
import { MANIFEST_TYP } from '../updates/signing';
import { KeyStatementSchema, TrustStoreSchema } from '../updates/trust';
import { fieldTable, toJsonSchema } from './schema-table';

const ManifestNotes: Record<string, string> = {
  kind: 'What the artifact replaces: the brewer controller image or the agent',
  version: 'Version of the artifact; must be newer than the installed one',
  models: 'Machine models it runs on',
  size: 'Exact length of the artifact in bytes',
  sha256: 'Lowercase hex SHA-256 of the artifact bytes',
  minVersion:
    'Anti-rollback floor: the oldest installed version it may replace; once installed, nothing older than this is accepted again',
  notes: 'Release notes, shown to operators',
  createdAt: 'When the release was built, ms since the Unix epoch',
};

const TrustNotes: Record<string, string> = {
  keys: 'Keys whose signatures are accepted (normally one, two during a rotation)',
  'keys[].kid': 'Key id, as in the JWS header `kid`',
  'keys[].jwk': 'Ed25519 public key as a JWK (RFC 8037)',
  'keys[].jwk.x': 'base64url of the 32-byte public key',
  revoked: 'Key ids never to be accepted again, kept forever',
};

const StatementNotes: Record<string, string> = {
  add: 'A key to trust from now on (a rotation)',
  revoke: 'Key ids to revoke; a rotation usually revokes the key that signed it',
  issuedAt: 'When the statement was signed, ms since the Unix epoch',
};

const SlotNotes: Record<string, string> = {
  mode: '`boot` after BOOTLOADER until REBOOT; `app` while an image runs',
  active: 'The slot that booted',
  pending: 'The slot on trial (activated, not yet confirmed); empty when none',
  boots: 'Boots of the trial slot so far',
  max_boots: 'Boots a trial slot gets to confirm itself before the bootloader falls back',
  fell_back: '1 when the last boot fell back because the trial slot never confirmed',
  a_state: 'Slot a: `empty`, `writing`, `verified`, `bad` or `confirmed`',
  a_fw: 'Version from slot a image header; empty when unreadable',
  a_len: 'Bytes written to slot a: where a resumed transfer continues',
  b_state: 'Slot b, as `a_state`',
  b_fw: 'Slot b, as `a_fw`',
  b_len: 'Slot b, as `a_len`',
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function flashExample(): string {
  const chunk = Uint8Array.from({ length: 8 }, (_, i) => 0x43 + i);
  const frames: Frame[] = [
    { kind: 'request', id: 0x40, verb: 'BOOTLOADER', args: {} },
    { kind: 'reply', id: 0x40, verb: 'OK', args: { active: 'a' } },
    {
      kind: 'request',
      id: 0x41,
      verb: 'FLASH',
      args: {
        slot: 'b',
        off: '0',
        data: hex(chunk),
        crc: crc16Bytes(chunk).toString(16).toUpperCase().padStart(4, '0'),
      },
    },
    { kind: 'reply', id: 0x41, verb: 'OK', args: { len: '8' } },
    {
      kind: 'request',
      id: 0x42,
      verb: 'FLASH',
      args: { slot: 'b', off: '8', data: hex(chunk), crc: '0000' },
    },
    { kind: 'reply', id: 0x42, verb: 'ERR', args: { code: 'BAD_CRC' } },
    {
      kind: 'request',
      id: 0x43,
      verb: 'VERIFY',
      args: {
        slot: 'b',
        size: '8',
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    },
    { kind: 'reply', id: 0x43, verb: 'ERR', args: { code: 'BAD_IMAGE', msg: 'sha256 mismatch' } },
  ];
  return `\`\`\`text\n${frames.map((f) => encodeFrame(f)).join('')}\`\`\``;
}

/** Section 15: the signed manifest, the trust store and its statements, and the bootloader slot table. */
export function renderUpdates(): string {
  return [
    '#### ArtifactManifest',
    '',
    `The JWS payload; protected header \`{ "alg": "EdDSA", "kid": "<key id>", "typ": "${MANIFEST_TYP}" }\`.`,
    '',
    fieldTable(toJsonSchema(ArtifactManifestSchema), ManifestNotes),
    '',
    '#### TrustStore',
    '',
    fieldTable(toJsonSchema(TrustStoreSchema), TrustNotes),
    '',
    '#### KeyStatement',
    '',
    'The JWS payload; protected header `typ` is `crema-key+jws`, `kid` names the signing key.',
    '',
    fieldTable(toJsonSchema(KeyStatementSchema), StatementNotes),
    '',
    '#### Bootloader SLOTS reply',
    '',
    `A FLASH line carries at most ${FLASH_CHUNK_BYTES} bytes.`,
    '',
    fieldTable(toJsonSchema(BootloaderSlotsSchema), SlotNotes),
    '',
    'Example (a chunk written, a chunk with a bad CRC refused, a wrong hash refused):',
    '',
    flashExample(),
  ].join('\n');
}
