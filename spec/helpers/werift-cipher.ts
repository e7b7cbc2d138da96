/**
 * werift's DTLS record cipher (node_modules/werift/lib/dtls/src/cipher), reached by file path
 * because werift's package exports do not expose it. A peer nobody here wrote, for
 * cross-checking lib/dtls key derivation and record protection, and for the record bench.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface WeriftRecordHeader {
  type: number;
  version: number;
  epoch: number;
  sequenceNumber: number;
}

/** The subset of werift's AEADCipher we use. sessionType: 1 client, 2 server. */
export interface WeriftAeadCipher {
  init(masterSecret: Buffer, serverRandom: Buffer, clientRandom: Buffer): void;
  encrypt(sessionType: 1 | 2, data: Buffer, header: WeriftRecordHeader): Buffer;
  decrypt(sessionType: 1 | 2, data: Buffer, header: WeriftRecordHeader): Buffer;
}

interface CreateModule {
  createCipher(id: number): unknown;
}

function isCreateModule(m: unknown): m is CreateModule {
  return (
    typeof m === 'object' && m !== null && typeof Reflect.get(m, 'createCipher') === 'function'
  );
}

function isAeadCipher(c: unknown): c is WeriftAeadCipher {
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof Reflect.get(c, 'init') === 'function' &&
    typeof Reflect.get(c, 'encrypt') === 'function'
  );
}

/** werift's cipher for suite `id` (throws if werift is missing or lacks it). */
export function weriftCipher(id: number): WeriftAeadCipher {
  const require = createRequire(import.meta.url);
  const path = join(process.cwd(), 'node_modules/werift/lib/dtls/src/cipher/create.js');
  const mod: unknown = require(path);
  if (!isCreateModule(mod)) throw new Error('werift cipher module not found');
  const c = mod.createCipher(id);
  if (!isAeadCipher(c)) throw new Error(`werift has no AEAD cipher 0x${id.toString(16)}`);
  return c;
}
