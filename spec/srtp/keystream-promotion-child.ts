/**
 * Child of keystream-promotion.spec.ts (run under `--max-semi-space-size=1`): 300 AES-GCM
 * sessions protect 1,200-byte packets round-robin while short-lived garbage (as a server's
 * sockets and routing make) forces frequent scavenges; prints the major GCs seen as JSON.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { SrtpSession } from '../../lib/srtp/session.js';

const SESSIONS = 300;
const ROUNDS = Number(process.argv[2] ?? 600);
/** Rounds before counting: startup (tsx, the sessions' tables) may grow the old generation. */
const WARMUP = 50;
let major = 0;
let minor = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  }
}).observe({ entryTypes: ['gc'] });

const sessions = Array.from({ length: SESSIONS }, (_, i) => {
  const masterKey = Buffer.alloc(16, i + 1);
  return new SrtpSession({
    profile: 'AEAD_AES_128_GCM',
    keys: { masterKey, masterSalt: Buffer.alloc(12, 7) },
  });
});
const packet = Buffer.alloc(1200);
packet[0] = 0x80;
packet[1] = 96;
packet.writeUInt32BE(0x1234abcd, 8);
const out = Buffer.alloc(1300);
let sink = 0;
for (let r = 0; r < ROUNDS; r++) {
  packet.writeUInt16BE(r & 0xffff, 2);
  for (let s = 0; s < SESSIONS; s++) {
    const n = sessions[s]!.protectRtp(packet, packet.length, out);
    if (typeof n === 'number') sink += n;
    // ~1 kB of short-lived objects per packet (Node's dgram.send alone makes ~300 B per
    // datagram; a server's routing and stats more), so a run outlives a few scavenges.
    const junk = [{ a: s, b: r }, { c: sink }, new Array(100).fill(s)];
    sink += junk.length;
  }
  if (r === WARMUP) {
    major = 0;
    minor = 0;
  }
}
setTimeout(() => {
  process.stdout.write(
    `${JSON.stringify({ packets: (ROUNDS - WARMUP - 1) * SESSIONS, major, minor, sink })}\n`,
  );
}, 50);
