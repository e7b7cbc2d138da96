/**
 * The SFU router core alone (no sockets; part of `npm run bench -- sfu`, bench/sfu.ts): one
 * publisher's 1,200-byte VP8 packets fanned out to N subscribers, each leg SRTP-protected with
 * its own session (lib/srtp), as the endpoint does. Reports forwarded packets per CPU-second,
 * subscriber tracks per core at 1 Mbit/s (~104 packets/s each), the fan-out time of one
 * packet to all N (p50/p99: the latency the router adds before the last subscriber's packet
 * leaves), the bare ceiling (copy + SRTP protect alone, same run), heap per subscriber, and
 * the JS heap each forwarded packet allocates (V8's sampling heap profiler: garbage that makes
 * scavenges, the SFU's GC pauses) with the sites allocating most.
 * The upper bound of what the end-to-end figures (bench/sfu/e2e.ts) can reach: no UDP, no
 * ICE/DTLS, no event loop between packets.
 */
import { randomBytes } from 'node:crypto';
import { writeRtp } from '../../lib/rtp/index.js';
import { Router } from '../../lib/sfu/router.js';
import { dtlsExportLength } from '../../lib/srtp/dtls-keys.js';
import {
  enableEcbResultRelease,
  profileParameters,
  type SrtpProfileName,
  SrtpSession,
} from '../../lib/srtp/index.js';
import { DatagramPool } from '../../lib/util/packet-slab.js';
import { SrtpTransport } from '../../lib/webrtc/srtp-transport.js';
import { type AllocationSite, sampleAllocations } from './heap-sampler.js';

const PACKET_BYTES = 1200;
const PACKETS_PER_TRACK = 1_000_000 / 8 / PACKET_BYTES; // 1 Mbit/s of 1,200-byte packets
const MEDIASOUP_CONSUMERS_PER_CORE = 500;
/** The young generation the SFU runs with (`--max-semi-space-size=1`), for the scavenge rate. */
const SEMI_SPACE_BYTES = 1024 * 1024;

export interface CoreBenchConfig {
  seconds: number;
  subscribers: number;
  memorySubscribers: number;
  profile: SrtpProfileName;
}

export interface CoreBenchResult {
  forwardedPerCpuSecond: number;
  bareProtectPerCpuSecond: number;
  tracksPerCore: number;
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  heapBytesPerSubscriber: number;
  /** JS heap allocated per forwarded packet (sampled; garbage included). */
  allocatedBytesPerForwarded: number;
  /** Where most of it is allocated: bytes per forwarded packet by site. */
  allocationSites: AllocationSite[];
}

function keys(profile: SrtpProfileName): { masterKey: Buffer; masterSalt: Buffer } {
  const p = profileParameters(profile);
  return { masterKey: randomBytes(p.keyLength), masterSalt: randomBytes(p.saltLength) };
}

function packet(seq: number, key: boolean): Buffer {
  const payload = Buffer.alloc(PACKET_BYTES - 12);
  payload[0] = 0x10;
  payload[1] = key ? 0x10 : 0x11;
  const out = Buffer.alloc(PACKET_BYTES);
  writeRtp(
    out,
    0,
    { payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: seq * 3000, ssrc: 1 },
    payload,
  );
  return out;
}

function room(subscribers: number, profile: SrtpProfileName) {
  const router = new Router({
    maxConsumersPerParticipant: 10,
    maxParticipantsPerRoom: 100_000,
    maxRtpPacketsPerSecond: 1e7,
  });
  const r = router.createRoom('bench');
  const pub = r.join({ id: 'pub', sendRtp: () => {}, sendRtcp: () => {} });
  const producer = pub.publish({
    kind: 'video',
    mimeType: 'video/VP8',
    payloadType: 96,
    clockRate: 90000,
    encodings: [{ ssrc: 1 }],
  });
  let sent = 0;
  const o = { replayWindow: 1024, maxStreams: 16 };
  // What the endpoint does per packet: protect into a datagram buffer of the mux's pool.
  const pool = new DatagramPool();
  for (let i = 0; i < subscribers; i++) {
    const srtp = new SrtpTransport(profile, randomBytes(dtlsExportLength(profile)), 'server', o);
    const sub = r.join({
      sendRtp: (b, length) => {
        const wire = pool.take(length + srtp.rtpOverhead);
        if (typeof srtp.protectRtpInto(b, length, wire) !== 'string') sent++;
      },
      sendRtcp: () => {},
    });
    sub.subscribe(producer, { ssrc: 1000 + i, payloadType: 96 });
  }
  return { router, pub, sent: () => sent };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export function runCoreBench(c: CoreBenchConfig): CoreBenchResult {
  // As `rtcd sfu` starts (lib/cli/start-sfu.ts): SRTP's ECB results freed at once.
  enableEcbResultRelease();
  const { pub, sent } = room(c.subscribers, c.profile);
  pub.receiveRtp(packet(0, true));
  const fanout: number[] = [];
  let seq = 1;
  const cpu0 = cpuSeconds();
  const sent0 = sent();
  const end = performance.now() + c.seconds * 1000;
  while (performance.now() < end) {
    const p = packet(seq++, false);
    const t0 = performance.now();
    pub.receiveRtp(p);
    fanout.push(performance.now() - t0);
  }
  const forwardedPerCpuSecond = (sent() - sent0) / (cpuSeconds() - cpu0);

  // What each forwarded packet allocates, in a short run of its own (sampling slows it).
  const ready = Array.from({ length: 200 }, () => packet(seq++, false));
  const sent1 = sent();
  const sampled = sampleAllocations(() => {
    for (const p of ready) pub.receiveRtp(p);
  });
  const perForwarded = (b: number) => b / Math.max(1, sent() - sent1);

  // The ceiling: the copy and SRTP protect every forwarded packet needs, and nothing else.
  const sessions = Array.from(
    { length: 16 },
    () => new SrtpSession({ profile: c.profile, keys: keys(c.profile) }),
  );
  const src = packet(1, false);
  const out = Buffer.alloc(1500);
  let bare = 0;
  const cpu1 = cpuSeconds();
  const end2 = performance.now() + c.seconds * 500;
  for (let s = 1; performance.now() < end2; s++) {
    src.writeUInt16BE(s & 0xffff, 2);
    for (const session of sessions) {
      const copy = Buffer.allocUnsafe(src.length);
      copy.set(src);
      session.protectRtp(copy, copy.length, out);
      bare++;
    }
  }
  const bareProtectPerCpuSecond = bare / (cpuSeconds() - cpu1);

  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const big = room(c.memorySubscribers, c.profile);
  for (let i = 0; i < 50; i++) big.pub.receiveRtp(packet(i, i === 0));
  globalThis.gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  big.router.close();

  fanout.sort((a, b) => a - b);
  return {
    forwardedPerCpuSecond,
    bareProtectPerCpuSecond,
    tracksPerCore: forwardedPerCpuSecond / PACKETS_PER_TRACK,
    fanoutP50Ms: percentile(fanout, 0.5),
    fanoutP99Ms: percentile(fanout, 0.99),
    heapBytesPerSubscriber: (heap1 - heap0) / c.memorySubscribers,
    allocatedBytesPerForwarded: perForwarded(sampled.bytes),
    allocationSites: sampled.sites.map((x) => ({ site: x.site, bytes: perForwarded(x.bytes) })),
  };
}

/** The router-core rows, labelled so they are not read as end-to-end figures. */
export function formatCoreRows(c: CoreBenchConfig, r: CoreBenchResult): string[] {
  const ofCeiling = (r.forwardedPerCpuSecond / r.bareProtectPerCpuSecond).toFixed(2);
  const ofMediasoup = (r.tracksPerCore / MEDIASOUP_CONSUMERS_PER_CORE).toFixed(2);
  const fanout = `p50 ${r.fanoutP50Ms.toFixed(3)} ms, p99 ${r.fanoutP99Ms.toFixed(3)} ms`;
  const sites = r.allocationSites
    .slice(0, 4)
    .map((x) => `${x.site} ${x.bytes.toFixed(1)} B`)
    .join(', ');
  return [
    `router core only (no sockets), ${c.profile}, 1 publisher -> ${c.subscribers} ` +
      `subscribers, ${c.seconds} s`,
    `  forwarded packets/s per core     ${Math.round(r.forwardedPerCpuSecond)}`,
    `  bare copy+protect packets/s      ${Math.round(r.bareProtectPerCpuSecond)} ` +
      `(router at ${ofCeiling}x of the ceiling)`,
    `  subscriber tracks/core @1 Mbit/s ${Math.round(r.tracksPerCore)} ` +
      `(${ofMediasoup}x mediasoup's ~500)`,
    `  fan-out of one packet to all     ${fanout}`,
    `  heap per subscriber              ${Math.round(r.heapBytesPerSubscriber)} B ` +
      `(${c.memorySubscribers} subscribers)`,
    `  JS heap allocated per forwarded  ${Math.round(r.allocatedBytesPerForwarded)} B ` +
      `(~${Math.round((r.allocatedBytesPerForwarded * 1e5) / SEMI_SPACE_BYTES)} scavenges per ` +
      '100k forwarded at a 1 MB semi-space; sampled)',
    `    most by: ${sites}`,
  ];
}
