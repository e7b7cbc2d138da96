/**
 * Child of forward-garbage.spec.ts (run under `--max-semi-space-size=1`): forwards 1 publisher's
 * packets to 50 subscribers through the router core, transport-cc and audio-level extensions
 * on, and prints what the steady state costs the JS heap as JSON: scavenges and sampled bytes
 * per forwarded packet. Packets are made before measuring, the send functions keep nothing.
 */

import { countScavenges, sampleAllocations } from '../../bench/sfu/heap-sampler.js';
import { ExtensionUri, writeRtp } from '../../lib/rtp/index.js';
import { Router } from '../../lib/sfu/router.js';

const SUBSCRIBERS = 50;
const PACKETS = 2000;
const ext = { [ExtensionUri.transportWideCc]: 3, [ExtensionUri.audioLevel]: 1 };

const router = new Router({ maxParticipantsPerRoom: 1000 });
const room = router.createRoom('garbage');
const pub = room.join({ id: 'pub', sendRtp: () => {}, sendRtcp: () => {} });
const producer = pub.publish({
  kind: 'video',
  mimeType: 'video/VP8',
  payloadType: 96,
  clockRate: 90000,
  encodings: [{ ssrc: 0x9abcdef0 }],
  headerExtensions: ext,
});
let bytes = 0;
let forwarded = 0;
for (let i = 0; i < SUBSCRIBERS; i++) {
  const sub = room.join({
    sendRtp: (_b, length) => {
      forwarded++;
      bytes += length;
    },
    sendRtcp: () => {},
  });
  sub.subscribe(producer, { ssrc: 0xf0000000 + i, payloadType: 100, headerExtensions: ext });
}

function packet(seq: number): Buffer {
  const payload = Buffer.alloc(1100);
  payload[0] = 0x10;
  payload[1] = seq === 0 ? 0x10 : 0x11; // VP8: a key frame first
  const out = Buffer.alloc(1200);
  const n = writeRtp(
    out,
    0,
    {
      payloadType: 96,
      sequenceNumber: seq & 0xffff,
      timestamp: seq * 3000,
      ssrc: 0x9abcdef0,
      extensions: [
        { id: 3, value: Buffer.from([seq >> 8, seq & 0xff]) },
        { id: 1, value: Buffer.from([0x80 | 30]) },
      ],
    },
    payload,
  );
  return out.subarray(0, n);
}

const all = Array.from({ length: 200 + 2 * PACKETS }, (_, i) => packet(i));
for (let i = 0; i < 200; i++) pub.receiveRtp(all[i]!);

const stop = countScavenges();
const f0 = forwarded;
for (let i = 200; i < 200 + PACKETS; i++) pub.receiveRtp(all[i]!);
const scavenges = await stop();
const measured = forwarded - f0;

const f1 = forwarded;
const sampled = sampleAllocations(() => {
  for (let i = 200 + PACKETS; i < all.length; i++) pub.receiveRtp(all[i]!);
}, 256);
const sampledForwarded = forwarded - f1;

process.stdout.write(
  `${JSON.stringify({
    forwarded: measured,
    scavenges,
    bytesPerForwarded: sampled.bytes / sampledForwarded,
    sites: sampled.sites.slice(0, 5),
    sentBytes: bytes,
  })}\n`,
);
