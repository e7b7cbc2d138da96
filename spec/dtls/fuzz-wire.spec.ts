import t from 'tap';
import { ContentType, ExtensionType } from '../../lib/dtls/constants.js';
import {
  decodeEcPointFormats,
  decodeExtendedMasterSecret,
  decodeExtensions,
  decodeKeyShareClientHello,
  decodeRenegotiationInfo,
  decodeSignatureAlgorithms,
  decodeSupportedGroups,
  decodeSupportedVersions,
  decodeUseSrtp,
  type Extension,
} from '../../lib/dtls/extensions.js';
import {
  fragmentHandshake,
  type HandshakeMessage,
  readHandshakeFragments,
} from '../../lib/dtls/handshake.js';
import {
  clientHelloWithoutCookie,
  decodeAlert,
  decodeHandshakeBody,
  encodeHandshakeBody,
  isChangeCipherSpec,
} from '../../lib/dtls/messages/index.js';
import { HandshakeReassembler } from '../../lib/dtls/reassembler.js';
import { encodeRecord, readRecords } from '../../lib/dtls/record.js';
import {
  allCapturedDatagrams,
  CHROMIUM_CLIENT_HELLO,
  chromiumLikeClientHello,
  handshakeMessages,
  OPENSSL_SERVER_FLIGHT,
} from '../helpers/dtls-captures.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

/**
 * Random and mutated DTLS input through every wire decoder: readRecords, readHandshakeFragments,
 * the reassembler, every message and extension decoder. Nothing may throw, the reassembler
 * stays within its byte budget, and whatever decodes re-encodes to something that decodes to
 * the same bytes again. Seeds are the real captures (OpenSSL, werift) and the Chromium-shaped
 * two-fragment ClientHello. Reproduce a failure with FUZZ_SEED=<seed>.
 */
const { seed, iterations } = fuzzSettings({ seed: 0xd715, iterations: 120_000 });

const SEED_DATAGRAMS = allCapturedDatagrams();
const SEED_MESSAGES: HandshakeMessage[] = [
  ...SEED_DATAGRAMS.flatMap((d) => handshakeMessages([d])),
  ...handshakeMessages(OPENSSL_SERVER_FLIGHT, 1),
  ...handshakeMessages(chromiumLikeClientHello().datagrams),
  ...handshakeMessages(CHROMIUM_CLIENT_HELLO),
];
const SEED_EXTENSIONS: Extension[] = SEED_MESSAGES.flatMap((m) => {
  const d = decodeHandshakeBody(m.msgType, m.body);
  return d && 'message' in d && 'extensions' in d.message ? d.message.extensions : [];
});

const EXTENSION_DECODERS: Record<number, (d: Buffer) => unknown> = {
  [ExtensionType.useSrtp]: decodeUseSrtp,
  [ExtensionType.supportedGroups]: decodeSupportedGroups,
  [ExtensionType.ecPointFormats]: decodeEcPointFormats,
  [ExtensionType.signatureAlgorithms]: decodeSignatureAlgorithms,
  [ExtensionType.extendedMasterSecret]: decodeExtendedMasterSecret,
  [ExtensionType.renegotiationInfo]: decodeRenegotiationInfo,
  [ExtensionType.supportedVersions]: decodeSupportedVersions,
  [ExtensionType.keyShare]: decodeKeyShareClientHello,
};
const EXTENSION_DECODER_LIST = Object.values(EXTENSION_DECODERS);
const INTERESTING = [0x00, 0x01, 0x02, 0x0c, 0x14, 0x16, 0x7f, 0x80, 0xfe, 0xff];

function mutate(rng: Random, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = b.length === 0 ? 0 : rng.int(b.length);
    switch (rng.int(8)) {
      case 0: // flip a bit
        if (b.length) b[at]! ^= 1 << rng.int(8);
        break;
      case 1: // an interesting byte
        if (b.length) b[at] = rng.pick(INTERESTING);
        break;
      case 2: // a random byte
        if (b.length) b[at] = rng.int(256);
        break;
      case 3: // truncate
        b = b.subarray(0, at);
        break;
      case 4: // a 16- or 24-bit length-like value
        if (at + 3 <= b.length)
          b.writeUIntBE(
            rng.pick([0, 1, 2, 3, 0xff, 0x100, 0xffff, 0xffffff, b.length - at]) & 0xffffff,
            at,
            3,
          );
        break;
      case 5: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
        break;
      case 6: // delete a span
        b = Buffer.concat([
          b.subarray(0, at),
          b.subarray(Math.min(b.length, at + 1 + rng.int(16))),
        ]);
        break;
      default: // duplicate a span
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.int(64)), b.subarray(at)]);
    }
  }
  return b;
}

/** Decode → encode → decode: the second decode must succeed and re-encode identically. */
function checkMessage(msgType: number, body: Buffer, stats: Stats): void {
  const d = decodeHandshakeBody(msgType, body);
  if (!d) return;
  stats.decoded++;
  if (d.msgType === 1) clientHelloWithoutCookie(body);
  if ('message' in d && 'extensions' in d.message) {
    for (const e of d.message.extensions) EXTENSION_DECODERS[e.type]?.(e.data);
  }
  const again = encodeHandshakeBody(d);
  const d2 = decodeHandshakeBody(msgType, again);
  if (!d2 || !encodeHandshakeBody(d2).equals(again)) {
    throw new Error(`type ${msgType} does not round-trip: ${body.toString('hex')}`);
  }
}

interface Stats {
  records: number;
  fragments: number;
  messages: number;
  decoded: number;
}

function datagramCase(datagram: Buffer, r: HandshakeReassembler, stats: Stats): void {
  for (const rec of readRecords(datagram)) {
    stats.records++;
    if (rec.type === ContentType.alert) decodeAlert(rec.fragment);
    if (rec.type === ContentType.changeCipherSpec) isChangeCipherSpec(rec.fragment);
    if (rec.type !== ContentType.handshake) continue;
    const fs = readHandshakeFragments(rec.fragment);
    if (!fs) continue;
    for (const f of fs) {
      stats.fragments++;
      r.add(f);
    }
    for (let m = r.next(); m; m = r.next()) {
      stats.messages++;
      checkMessage(m.msgType, m.body, stats);
    }
  }
  if (r.bufferedBytes > 262144) throw new Error('reassembler over its byte budget');
}

/** A mutated body, wrapped in valid headers, fragmented and delivered in a random order. */
function bodyCase(rng: Random, stats: Stats): void {
  const seedMsg = rng.pick(SEED_MESSAGES);
  const body = mutate(rng, seedMsg.body);
  const msgType = rng.chance(0.9) ? seedMsg.msgType : rng.int(24);
  checkMessage(msgType, body, stats);
  const pieces = fragmentHandshake(msgType, 0, body, 1 + rng.int(Math.max(1, body.length)));
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
  }
  const r = new HandshakeReassembler();
  const datagram = Buffer.concat(
    pieces.map((fragment, i) =>
      encodeRecord({ type: 22, version: 0xfefd, epoch: 0, sequenceNumber: i, fragment }),
    ),
  );
  const mutated = rng.chance(0.2);
  datagramCase(mutated ? mutate(rng, datagram) : datagram, r, stats);
  if (!mutated && r.nextSeq !== 1) {
    throw new Error(`an intact message in ${pieces.length} fragments did not reassemble`);
  }
}

function extensionCase(rng: Random): void {
  const e = SEED_EXTENSIONS.length ? rng.pick(SEED_EXTENSIONS) : { type: 0, data: Buffer.alloc(0) };
  const data = mutate(rng, e.data);
  (EXTENSION_DECODERS[e.type] ?? rng.pick(EXTENSION_DECODER_LIST))(data);
  rng.pick(EXTENSION_DECODER_LIST)(data);
  decodeExtensions(data);
}

t.test(`fuzz: ${iterations} cases, seed ${seed}`, (t) => {
  const rng = new Random(seed);
  const stats: Stats = { records: 0, fragments: 0, messages: 0, decoded: 0 };
  let reassembler = new HandshakeReassembler();
  let failures = 0;
  const started = Date.now();
  for (let i = 0; i < iterations; i++) {
    try {
      if (i % 64 === 0) reassembler = new HandshakeReassembler({ nextSeq: rng.int(3) });
      if (rng.chance(0.02)) reassembler.nextSeq = Math.min(0x10000, reassembler.nextSeq + 1);
      const kind = rng.int(10);
      if (kind < 5) datagramCase(mutate(rng, rng.pick(SEED_DATAGRAMS)), reassembler, stats);
      else if (kind < 8) bodyCase(rng, stats);
      else if (kind < 9) extensionCase(rng);
      else datagramCase(rng.bytes(rng.int(300)), reassembler, stats);
    } catch (err) {
      if (failures++ < 5) t.fail(`case ${i}: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }
  t.equal(failures, 0, 'no case threw');
  t.ok(stats.messages > iterations / 4, `messages reassembled: ${stats.messages}`);
  t.ok(stats.decoded > iterations / 10, `messages decoded: ${stats.decoded}`);
  t.ok(SEED_MESSAGES.length >= 10, `seed messages: ${SEED_MESSAGES.length}`);
  t.comment(`${iterations} cases in ${Date.now() - started} ms`, stats);
  t.end();
});
