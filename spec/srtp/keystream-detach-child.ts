/**
 * Child of keystream-detach.spec.ts: 200 AES-GCM sessions protect 1,200-byte packets
 * round-robin (each packet also opened by the peer session and compared), sampling
 * process.memoryUsage().arrayBuffers; prints whether ECB results are released (after
 * enableEcbResultRelease() when the second argument is `enable`), the largest sample, the
 * major GCs seen and whether every packet round-tripped.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { ecbResultReleaseEnabled, enableEcbResultRelease } from '../../lib/srtp/keystream-runs.js';
import { SrtpSession } from '../../lib/srtp/session.js';

const SESSIONS = 200;
const ROUNDS = Number(process.argv[2] ?? 400);
if (process.argv[3] === 'enable') enableEcbResultRelease();
let major = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
  }
}).observe({ entryTypes: ['gc'] });

const pairs = Array.from({ length: SESSIONS }, (_, i) => {
  const keys = { masterKey: Buffer.alloc(16, i + 1), masterSalt: Buffer.alloc(12, 9) };
  return {
    tx: new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys }),
    rx: new SrtpSession({ profile: 'AEAD_AES_128_GCM', keys }),
  };
});
const packet = Buffer.alloc(1200);
packet[0] = 0x80;
packet[1] = 96;
for (let i = 12; i < packet.length; i++) packet[i] = i & 0xff;
const out = Buffer.alloc(1216);
let maxArrayBuffers = 0;
let ok = 0;
for (let r = 0; r < ROUNDS; r++) {
  packet.writeUInt16BE(r & 0xffff, 2);
  for (let s = 0; s < SESSIONS; s++) {
    const pair = pairs[s]!;
    packet.writeUInt32BE(0x10000 + s, 8);
    const n = pair.tx.protectRtp(packet, packet.length, out);
    if (n !== 1216) continue;
    const m = pair.rx.unprotectRtp(out, n, out);
    if (m === 1200 && out.subarray(0, 1200).equals(packet)) ok++;
  }
  if (r % 10 === 0) {
    maxArrayBuffers = Math.max(maxArrayBuffers, process.memoryUsage().arrayBuffers);
  }
}
setTimeout(() => {
  const transfer = ecbResultReleaseEnabled();
  const packets = ROUNDS * SESSIONS;
  process.stdout.write(`${JSON.stringify({ transfer, packets, ok, maxArrayBuffers, major })}\n`);
}, 50);
