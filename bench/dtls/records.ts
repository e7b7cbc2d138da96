/**
 * Record-layer half of `npm run bench -- dtls`: AEAD seal and open of application-data
 * records (default 1,200-byte plaintexts, DTLS 1.2, epoch 1), records per CPU-second, for
 * lib/dtls RecordProtection beside
 * - the bare node:crypto loop: one createCipheriv / createDecipheriv per record with the same
 *   13-byte AAD and a KeyObject key (the ceiling: no record framing at all);
 * - werift 0.24's record cipher (AES-GCM suites only; it has no ChaCha20-Poly1305).
 * The three run interleaved (bench/srtp/measure.ts), best of five rounds.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { type CipherSuite, cipherSuiteById } from '../../lib/dtls/cipher-suites.js';
import { keyBlock } from '../../lib/dtls/key-schedule.js';
import { RecordProtection } from '../../lib/dtls/record-protection.js';
import { weriftCipher } from '../../spec/helpers/werift-cipher.js';
import { interleavedRates } from '../srtp/measure.js';
import type { Step } from '../srtp/workloads.js';

const APP_DATA = 23;
const DTLS12 = 0xfefd;
const EPOCH = 1;
/** Interleaved rounds per row, best counts: a shared 2-core VM is noisy. */
const ROUNDS = 5;
/**
 * The open rows open one record over and over, as the bare loop does, so that all three read
 * the same bytes from a warm cache (replay protection is the record layer's, not this one's).
 */
const OPEN_SEQ = 7;

export type RecordDirection = 'seal' | 'open';

export interface RecordBenchConfig {
  /** Timed seconds per row and implementation (wall clock, split into five rounds). */
  seconds: number;
  /** Plaintext bytes per record. */
  size: number;
  /** Cipher suite ids. */
  suites: readonly number[];
  werift: boolean;
}

export const defaultRecordConfig: RecordBenchConfig = {
  seconds: 1.5,
  size: 1200,
  suites: [0xc02b, 0xc02c, 0xcca9],
  werift: true,
};

export interface RecordRow {
  suite: string;
  direction: RecordDirection;
  /** Records per CPU-second. */
  rtcd: number;
  bare: number;
  werift: number | undefined;
}

interface Keys {
  suite: CipherSuite;
  master: Buffer;
  clientRandom: Buffer;
  serverRandom: Buffer;
  key: Buffer;
  iv: Buffer;
}

function benchKeys(suite: CipherSuite): Keys {
  const master = randomBytes(48);
  const clientRandom = randomBytes(32);
  const serverRandom = randomBytes(32);
  const kb = keyBlock(suite, master, clientRandom, serverRandom);
  return {
    suite,
    master,
    clientRandom,
    serverRandom,
    key: kb.clientWriteKey,
    iv: kb.clientWriteIv,
  };
}

function aad(seq: number, length: number): Buffer {
  const a = Buffer.alloc(13);
  a.writeUInt16BE(EPOCH, 0);
  a.writeUIntBE(seq, 2, 6);
  a[8] = APP_DATA;
  a.writeUInt16BE(DTLS12, 9);
  a.writeUInt16BE(length, 11);
  return a;
}

function rtcdSteps(k: Keys, plain: Buffer): Record<RecordDirection, Step> {
  const sealer = new RecordProtection(k.suite, k.key, k.iv);
  let seq = 0;
  const sealed = sealer.seal(APP_DATA, DTLS12, EPOCH, OPEN_SEQ, plain);
  const opener = new RecordProtection(k.suite, k.key, k.iv);
  return {
    seal: () => sealer.seal(APP_DATA, DTLS12, EPOCH, seq++, plain).length,
    open: () => opener.open(APP_DATA, DTLS12, EPOCH, OPEN_SEQ, sealed)?.length ?? -1,
  };
}

function bareSteps(k: Keys, plain: Buffer): Record<RecordDirection, Step> {
  const key = createSecretKey(k.key);
  const nonce = randomBytes(12);
  const a = aad(OPEN_SEQ, plain.length);
  const chacha = k.suite.cipher === 'chacha20-poly1305';
  const gcm = k.suite.cipher === 'aes-256-gcm' ? 'aes-256-gcm' : 'aes-128-gcm';
  const enc = () =>
    chacha
      ? createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      : createCipheriv(gcm, key, nonce, { authTagLength: 16 });
  const dec = () =>
    chacha
      ? createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
      : createDecipheriv(gcm, key, nonce, { authTagLength: 16 });
  const c = enc();
  c.setAAD(a, { plaintextLength: plain.length });
  const ct = Buffer.concat([c.update(plain), c.final()]);
  const tag = c.getAuthTag();
  return {
    seal: () => {
      const cipher = enc();
      cipher.setAAD(a, { plaintextLength: plain.length });
      const n = cipher.update(plain).length + cipher.final().length;
      return n + cipher.getAuthTag().length;
    },
    open: () => {
      const d = dec();
      d.setAuthTag(tag);
      d.setAAD(a, { plaintextLength: ct.length });
      return d.update(ct).length + d.final().length;
    },
  };
}

function weriftSteps(k: Keys, plain: Buffer): Record<RecordDirection, Step> | undefined {
  if (k.suite.cipher === 'chacha20-poly1305') return undefined;
  const client = weriftCipher(k.suite.id);
  client.init(k.master, k.serverRandom, k.clientRandom);
  const server = weriftCipher(k.suite.id);
  server.init(k.master, k.serverRandom, k.clientRandom);
  const header = (seq: number) => ({
    type: APP_DATA,
    version: DTLS12,
    epoch: EPOCH,
    sequenceNumber: seq,
  });
  let seq = 0;
  const openHeader = header(OPEN_SEQ);
  const sealed = client.encrypt(1, plain, openHeader);
  const h = header(0);
  return {
    seal: () => {
      h.sequenceNumber = seq++;
      return client.encrypt(1, plain, h).length;
    },
    // werift as server opens what its client sealed.
    open: () => server.decrypt(2, sealed, openHeader).length,
  };
}

/**
 * Before timing: werift and rtcd seal byte-identical records from the same master secret and
 * each opens the other's, so the rows measure the same work. Throws on a mismatch.
 */
export function crossCheckRecords(suiteId: number, size: number): void {
  const suite = cipherSuiteById(suiteId);
  if (suite === undefined) throw new TypeError(`unknown suite 0x${suiteId.toString(16)}`);
  const k = benchKeys(suite);
  const plain = randomBytes(size);
  const ours = new RecordProtection(suite, k.key, k.iv).seal(APP_DATA, DTLS12, EPOCH, 5, plain);
  const opened = new RecordProtection(suite, k.key, k.iv).open(APP_DATA, DTLS12, EPOCH, 5, ours);
  if (opened === undefined || !opened.equals(plain)) throw new Error(`${suite.name}: round trip`);
  if (suite.cipher === 'chacha20-poly1305') return;
  const w = weriftCipher(suiteId);
  w.init(k.master, k.serverRandom, k.clientRandom);
  const header = { type: APP_DATA, version: DTLS12, epoch: EPOCH, sequenceNumber: 5 };
  if (!w.encrypt(1, plain, header).equals(ours)) throw new Error(`${suite.name}: werift differs`);
  if (!w.decrypt(2, ours, header).equals(plain)) throw new Error(`${suite.name}: werift open`);
}

/** Runs every suite × direction; `log` gets one line per finished row. */
export function runRecordBench(
  config: RecordBenchConfig,
  log: (line: string) => void = () => {},
): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const id of config.suites) {
    const suite = cipherSuiteById(id);
    if (suite === undefined) throw new TypeError(`unknown suite 0x${id.toString(16)}`);
    crossCheckRecords(id, config.size);
    const k = benchKeys(suite);
    const plain = randomBytes(config.size);
    const ours = rtcdSteps(k, plain);
    const bare = bareSteps(k, plain);
    const werift = config.werift ? weriftSteps(k, plain) : undefined;
    for (const direction of ['seal', 'open'] as const) {
      const steps = [ours[direction], bare[direction]];
      if (werift !== undefined) steps.push(werift[direction]);
      const [r, b, w] = interleavedRates(steps, config.seconds, ROUNDS);
      const row = { suite: suite.name, direction, rtcd: r!, bare: b!, werift: w };
      rows.push(row);
      log(`  ${suite.name} ${direction}: ${Math.round(row.rtcd)} records/s`);
    }
  }
  return rows;
}
