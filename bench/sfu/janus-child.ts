/**
 * Child process of the SFU bench's Janus rows, run inside Janus's network namespace: the same
 * rooms, packets and measurement as bench/sfu/client-child.ts (publisher and subscribers of a
 * room in this one process, a send stamp in every packet, a `sfu` phase through Janus and a
 * `direct` phase publisher → subscriber sockets), with clients signalled over Janus's HTTP API
 * (bench/sfu/janus-client.ts). Speaks the bench's `ClientIn`/`ClientOut` messages; `url` is
 * Janus's API and `udpPort` is unused (Janus gives each PeerConnection its own port).
 */
import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { profileParameters, type SrtpProfileName, SrtpSession } from '../../lib/srtp/index.js';
import { JanusSession } from './janus-api.js';
import { JanusClient } from './janus-client.js';
import { JANUS_ADDRESS } from './janus-server.js';
import {
  type ClientIn,
  type ClientOut,
  Histogram,
  isMessage,
  PACKET_BYTES,
  PACKETS_PER_SECOND,
  type RoomPlan,
} from './protocol.js';
import { ReceiveCheck, STAMP_AT, StampReader } from './stamp-reader.js';

const PROFILE: SrtpProfileName = 'AEAD_AES_128_GCM';
const KEY_FRAME_INTERVAL_MS = 1000;
const TICK_MS = 4;
const CONCURRENT_CONNECTS = 8;

interface Subscriber {
  client: JanusClient;
  directRx: SrtpSession;
  /** Reads stamps on the direct path; `reader` on the SFU path (once keyed by DTLS). */
  directReader: StampReader;
  reader: StampReader | undefined;
  check: ReceiveCheck;
  received: number;
}

interface Publisher {
  client: JanusClient;
  room: number;
  ssrc: number;
  directSsrc: number;
  seq: number;
  directSeq: number;
  directTx: SrtpSession;
  directKeys: { masterKey: Buffer; masterSalt: Buffer };
  subscribers: Subscriber[];
  keyFrameDue: boolean;
  lastKeyFrameAt: number;
  sent: number;
  sentInWindow: number;
  offset: number;
}

const certificate = generateCertificate({ commonName: 'sfu-bench-janus-client' });
const publishers = new Map<string, Publisher>();
const clear = Buffer.alloc(PACKET_BYTES);
let session: JanusSession | undefined;
let ufrags = 0;
let counting: 'sfu' | 'direct' | undefined;
let histogram = new Histogram();
/** Every how many packets a subscriber fully unprotects (`ReceiveCheck`). */
let verifyEvery = 1;
let windowStart = Number.POSITIVE_INFINITY;
let windowEnd = Number.NEGATIVE_INFINITY;

function reply(m: ClientOut): void {
  process.send?.(m);
}

const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

async function openClient(url: string): Promise<JanusClient> {
  session ??= await JanusSession.create(url);
  return JanusClient.open({
    certificate: await certificate,
    session,
    address: JANUS_ADDRESS,
    ufrag: `j${process.pid.toString(36)}c${(ufrags++).toString(36)}`,
    profile: PROFILE,
  });
}

const randomSsrc = (): number => randomBytes(4).readUInt32BE(0) >>> 1 || 1;

/** Janus rooms are numbered: `call7` → 1007 (unique across child processes). */
const roomNumber = (id: string): number => 1000 + Number(/\d+$/.exec(id)?.[0] ?? 0);

/** Counts a packet of the measured window (by its send stamp, NaN: bad) and its latency. */
function arrived(s: Subscriber, sent: number): void {
  if (!(sent >= windowStart && sent < windowEnd)) return;
  s.received++;
  histogram.add(nowUs() - sent);
}

function onSubscriberMedia(s: Subscriber, d: Buffer, from: RemoteInfo): void {
  if (counting === undefined) return;
  const b1 = d[1] ?? 0;
  if (from.port === s.client.remote?.port) {
    if (counting !== 'sfu' || (b1 >= 192 && b1 <= 223)) return; // RTCP from Janus
    const keys = s.client.remoteKeys;
    if (keys === undefined) return;
    s.reader ??= new StampReader(PROFILE, keys);
    const srtp = s.client.srtp;
    arrived(
      s,
      s.check.stampOf(d, s.reader, (p) => {
        const r = srtp?.unprotect(p);
        return r?.kind === 'rtp' ? r.packet.length : undefined;
      }),
    );
  } else if (counting === 'direct') {
    arrived(
      s,
      s.check.stampOf(d, s.directReader, (p) => {
        const n = s.directRx.unprotectRtp(p, p.length, p);
        return typeof n === 'number' ? n : undefined;
      }),
    );
  }
}

/** PLI or FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1) in a compound RTCP packet from Janus. */
function wantsKeyFrame(p: Buffer): boolean {
  for (let i = 0; i + 4 <= p.length; ) {
    const fmt = p[i]! & 0x1f;
    if (p[i + 1] === 206 && (fmt === 1 || fmt === 4)) return true;
    i += (p.readUInt16BE(i + 2) + 1) * 4;
  }
  return false;
}

async function addSubscriber(p: Publisher, url: string): Promise<Subscriber | undefined> {
  const client = await openClient(url);
  const s: Subscriber = {
    client,
    directRx: new SrtpSession({ profile: PROFILE, keys: p.directKeys, replayWindow: 1024 }),
    directReader: new StampReader(PROFILE, p.directKeys),
    reader: undefined,
    check: new ReceiveCheck(verifyEvery),
    received: 0,
  };
  client.onMedia = (d, from) => onSubscriberMedia(s, d, from);
  try {
    await client.subscribe(p.room, p.client.feed);
  } catch (err) {
    client.close();
    process.stderr.write(`sfu-bench janus subscriber: ${String(err)}\n`);
    return undefined;
  }
  p.subscribers.push(s);
  return s;
}

async function addSubscribers(p: Publisher, n: number, url: string): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i += CONCURRENT_CONNECTS) {
    const batch = Array.from({ length: Math.min(CONCURRENT_CONNECTS, n - i) }, () =>
      addSubscriber(p, url),
    );
    for (const s of await Promise.all(batch)) if (s === undefined) failed++;
  }
  return failed;
}

async function setUpRoom(plan: RoomPlan, url: string): Promise<number> {
  const client = await openClient(url);
  const k = profileParameters(PROFILE);
  const keys = { masterKey: randomBytes(k.keyLength), masterSalt: randomBytes(k.saltLength) };
  const p: Publisher = {
    client,
    room: roomNumber(plan.id),
    ssrc: randomSsrc(),
    directSsrc: randomSsrc(),
    seq: 0,
    directSeq: 0,
    directTx: new SrtpSession({ profile: PROFILE, keys }),
    directKeys: keys,
    subscribers: [],
    keyFrameDue: true,
    lastKeyFrameAt: 0,
    sent: 0,
    sentInWindow: 0,
    offset: Math.random() * (1000 / PACKETS_PER_SECOND),
  };
  client.onMedia = (d) => {
    const r = client.srtp?.unprotect(d);
    if (r?.kind === 'rtcp' && wantsKeyFrame(r.packet)) p.keyFrameDue = true;
  };
  try {
    await client.publish(p.room, p.ssrc);
  } catch (err) {
    client.close();
    process.stderr.write(`sfu-bench janus publisher: ${String(err)}\n`);
    return plan.subscribers + 1;
  }
  publishers.set(plan.id, p);
  return addSubscribers(p, plan.subscribers, url);
}

function counts(): { publishers: number; subscribers: number } {
  let subscribers = 0;
  for (const p of publishers.values()) subscribers += p.subscribers.length;
  return { publishers: publishers.size, subscribers };
}

function packet(p: Publisher, mode: 'sfu' | 'direct', now: number): Buffer {
  const key = p.keyFrameDue || now - p.lastKeyFrameAt >= KEY_FRAME_INTERVAL_MS;
  if (key) {
    p.keyFrameDue = false;
    p.lastKeyFrameAt = now;
  }
  const seq = mode === 'sfu' ? p.seq++ : p.directSeq++;
  clear[0] = 0x80;
  clear[1] = 0x80 | (p.client.remote?.vp8 ?? 96);
  clear.writeUInt16BE(seq & 0xffff, 2);
  clear.writeUInt32BE((seq * 865) >>> 0, 4);
  clear.writeUInt32BE(mode === 'sfu' ? p.ssrc : p.directSsrc, 8);
  // VP8 payload descriptor (S=1, PartID 0) and payload header: P=0 on a key frame (RFC 7741).
  clear[12] = 0x10;
  clear[13] = key ? 0x00 : 0x01;
  clear[14] = 0x9d;
  clear[15] = 0x01;
  const t = nowUs();
  clear.writeDoubleBE(t, 12 + STAMP_AT);
  if (t >= windowStart && t < windowEnd) p.sentInWindow++;
  return clear;
}

function sendOne(p: Publisher, mode: 'sfu' | 'direct', now: number): void {
  const c = packet(p, mode, now);
  if (mode === 'sfu') {
    const out = p.client.srtp?.protectRtp(c);
    if (out === undefined || typeof out === 'string') return;
    p.client.send(out);
  } else {
    const out = Buffer.allocUnsafe(c.length + 16);
    const n = p.directTx.protectRtp(c, c.length, out);
    if (typeof n !== 'number') return;
    const datagram = out.subarray(0, n);
    for (const s of p.subscribers) p.client.socket.send(datagram, s.client.port, JANUS_ADDRESS);
  }
  p.sent++;
}

async function runPhase(
  mode: 'sfu' | 'direct',
  warmupMs: number,
  durationMs: number,
  drainMs: number,
  every: number,
): Promise<void> {
  histogram = new Histogram();
  verifyEvery = every;
  for (const p of publishers.values()) {
    p.sent = 0;
    p.sentInWindow = 0;
    p.keyFrameDue = true;
    for (const s of p.subscribers) {
      s.received = 0;
      if (s.check.verifyEvery !== verifyEvery) s.check = new ReceiveCheck(verifyEvery);
      s.check.reset();
    }
  }
  const delay = monitorEventLoopDelay({ resolution: 10 });
  counting = mode;
  const start = performance.now();
  const sendMs = warmupMs + durationMs;
  windowStart = nowUs() + warmupMs * 1000;
  windowEnd = windowStart + durationMs * 1000;
  let cpu0 = process.cpuUsage();
  const warm = setTimeout(() => {
    cpu0 = process.cpuUsage();
    delay.enable();
  }, warmupMs);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now, start + sendMs) - start;
      for (const p of publishers.values()) {
        const due = Math.floor(((elapsed + p.offset) * PACKETS_PER_SECOND) / 1000);
        while (p.sent < due) sendOne(p, mode, now);
      }
      if (now >= start + sendMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  clearTimeout(warm);
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  await new Promise((r) => setTimeout(r, drainMs));
  counting = undefined;
  const t = { sent: 0, expected: 0, received: 0, badPackets: 0, verified: 0 };
  for (const p of publishers.values()) {
    t.sent += p.sentInWindow;
    t.expected += p.sentInWindow * p.subscribers.length;
    for (const s of p.subscribers) {
      t.received += s.received;
      t.badPackets += s.check.bad;
      t.verified += s.check.verified;
    }
  }
  reply({
    type: 'phase-done',
    ...t,
    histogram: histogram.toArray(),
    cpuUs: cpu.user + cpu.system,
    loopDelayP99Ms: delay.count > 0 ? delay.percentile(99) / 1e6 : 0,
  });
}

async function handle(m: ClientIn): Promise<void> {
  if (m.type === 'connect') {
    let failed = 0;
    // Rooms one after another: Janus's API and its per-handle threads set up more slowly
    // than rtcd's, and the subscribers inside a room already go a few at a time.
    for (const r of m.rooms) failed += await setUpRoom(r, m.url);
    reply({ type: 'connected', ...counts(), failed });
  } else if (m.type === 'add-subscribers') {
    let failed = 0;
    for (const r of m.rooms) {
      const p = publishers.get(r.id);
      failed += p ? await addSubscribers(p, r.subscribers, m.url) : r.subscribers;
    }
    reply({ type: 'connected', ...counts(), failed });
  } else if (m.type === 'phase') {
    await runPhase(m.mode, m.warmupMs, m.durationMs, m.drainMs, m.verifyEvery);
  } else {
    for (const p of publishers.values()) {
      for (const s of p.subscribers) s.client.close();
      p.client.close();
    }
    publishers.clear();
    await session?.destroy();
    process.send?.({ type: 'closed' } satisfies ClientOut, () => process.exit(0));
  }
}

process.on('message', (m: unknown) => {
  if (!isMessage(m)) return;
  handle(m as ClientIn).catch((err: unknown) => reply({ type: 'error', message: String(err) }));
});
