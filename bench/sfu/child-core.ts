/**
 * What the SFU bench's client children share (bench/sfu/client-child.ts for rtcd,
 * bench/sfu/janus-child.ts for Janus): rooms (a publisher and its subscribers: in one process,
 * or with `--split-rooms` the subscribers in another client process than their publisher's),
 * the send loop, the receive/verify path, the measurement and the `ClientIn` / `ClientOut`
 * message loop. Publishers send 1 Mbit/s of 1,200-byte VP8 packets, a key frame first, every
 * second and on PLI/FIR, each stamped with its send time in µs on the machine's monotonic
 * clock (`monoUs`, the same in every process); subscribers decrypt, count and subtract.
 *
 * A phase runs one path: `sfu` (publisher → server → subscribers, each leg its own SRTP
 * session), `direct` (the publisher protects once with a room key and sends to each of its
 * subscribers' sockets itself, wherever they are: the same sockets, rate and decrypt work, no
 * server) or `relay` (the direct path's packets, sent once to the bare relay in the server's
 * process, bench/sfu/bare-relay.ts, which copies them to the subscribers' sockets).
 * How a client is opened, published and subscribed is the child's (`ChildHooks`).
 */
import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { profileParameters, type SrtpProfileName, SrtpSession } from '../../lib/srtp/index.js';
import { routeDatagram } from './bare-relay.js';
import type { ClientCore } from './client-core.js';
import { GcWatch } from './gc-watch.js';
import {
  type ClientIn,
  type ClientOut,
  Histogram,
  isMessage,
  monoUs,
  PACKET_BYTES,
  PACKETS_PER_SECOND,
  type PhaseMode,
  type Publication,
  type RoomPlan,
  SEND_TICK_MS,
} from './protocol.js';
import { SlowTimeline } from './slow-timeline.js';
import { ReceiveCheck, STAMP_AT, StampReader } from './stamp-reader.js';

export const PROFILE: SrtpProfileName = 'AEAD_AES_128_GCM';
const KEY_FRAME_INTERVAL_MS = 1000;

/** What differs between the children: signalling, addresses, pacing of set-up. */
export interface ChildHooks<C extends ClientCore> {
  /** Opens one client (not yet connected) for the server at `url` / `udpPort`. */
  open(url: string, udpPort: number): Promise<C>;
  /** Publishes one VP8 track with `ssrc` into `room` (a `RoomPlan` id). */
  publish(client: C, room: string, ssrc: number): Promise<void>;
  /** Subscribes `client` to the track in `room` of the publisher `ref` names (`publisherRef`). */
  subscribe(client: C, room: string, ref: number): Promise<void>;
  /** What a subscriber, maybe in another process, needs to name `client`'s track (or 0). */
  publisherRef(client: C): number;
  /** Whether a datagram `client` got came from the server (else from a direct publisher). */
  fromServer(client: C, from: RemoteInfo): boolean;
  /** The VP8 payload type `client`'s packets carry (once published). */
  payloadType(client: C): number;
  /** The address clients bind (where direct packets go). */
  address: string;
  /** Subscribers connected at once. */
  concurrentConnects: number;
  /** Rooms set up at once on `connect`. */
  concurrentRooms: number;
  /** Prefix of set-up errors written to stderr, e.g. `sfu-bench janus`. */
  label: string;
  /** Called after every client is closed, before the child says `closed`. */
  closed?: () => Promise<void>;
}

interface Subscriber<C> {
  client: C;
  directRx: SrtpSession;
  /** Reads stamps on the direct path; `reader` on the SFU path (once keyed by DTLS). */
  directReader: StampReader;
  reader: StampReader | undefined;
  check: ReceiveCheck;
  /** Full unprotects for `check`, made once (not a closure per packet). */
  sfuUnprotect: (d: Buffer) => number | undefined;
  directUnprotect: (d: Buffer) => number | undefined;
  received: number;
}

/** A room's subscribers in this process, and what they need of its publisher's. */
interface Audience<C> {
  room: string;
  /** The server (worker) the room lives on. */
  url: string;
  udpPort: number;
  /** The publisher's direct-path keys, and its `publisherRef`. */
  directKeys: { masterKey: Buffer; masterSalt: Buffer };
  ref: number;
  subscribers: Subscriber<C>[];
}

interface Publisher<C> {
  client: C;
  room: string;
  /** The server (worker) the room lives on. */
  url: string;
  udpPort: number;
  ssrc: number;
  directSsrc: number;
  /** The VP8 payload type (the server's, once published). */
  pt: number;
  seq: number;
  directSeq: number;
  directTx: SrtpSession;
  directKeys: { masterKey: Buffer; masterSalt: Buffer };
  /** Where the direct path sends: the room's subscribers' ports, in this process or not. */
  directPorts: number[];
  keyFrameDue: boolean;
  lastKeyFrameAt: number;
  sent: number;
  /** Packets sent inside the measured window. */
  sentInWindow: number;
  /** Phase offset in ms, so publishers do not all send in the same tick. */
  offset: number;
}

const nowUs = monoUs;

const randomSsrc = (): number => randomBytes(4).readUInt32BE(0) >>> 1 || 1;

function reply(m: ClientOut): void {
  process.send?.(m);
}

/** PLI or FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1) in a compound RTCP packet from the server. */
function wantsKeyFrame(p: Buffer): boolean {
  for (let i = 0; i + 4 <= p.length; ) {
    const fmt = p[i]! & 0x1f;
    if (p[i + 1] === 206 && (fmt === 1 || fmt === 4)) return true;
    i += (p.readUInt16BE(i + 2) + 1) * 4;
  }
  return false;
}

/** Runs this process as a client child: answers the parent's `ClientIn` messages. */
export function runClientChild<C extends ClientCore>(hooks: ChildHooks<C>): void {
  const publishers = new Map<string, Publisher<C>>();
  /** The subscribers here, by room (their publisher here or, with `--split-rooms`, not). */
  const audiences = new Map<string, Audience<C>>();
  /** Publishers set up by the current `connect` whose subscribers are elsewhere. */
  const published: Publication[] = [];
  const gcWatch = new GcWatch();
  const clear = Buffer.alloc(PACKET_BYTES);
  let counting: PhaseMode | undefined;
  /** `relay` phases: where publishers send (the bare relay's port). */
  let relayPort = 0;
  let histogram = new Histogram();
  let timeline = new SlowTimeline(0, 0);
  /** Every how many packets a subscriber fully unprotects (`ReceiveCheck`). */
  let verifyEvery = 1;
  /** The measured window, in send-stamp µs: packets stamped outside it are not counted. */
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.NEGATIVE_INFINITY;

  /**
   * Latencies of the warm-up's (and the drain's) packets: measured like the window's and
   * thrown away, so the window's first packets run code the JIT has already seen taken, as
   * the rest do; counting only inside the window left that code cold until the window opened
   * on the SFU path (the direct path runs later in the same processes).
   */
  const warmUp = new Histogram();
  let warmUpTimeline = new SlowTimeline(0, 0);

  /** Counts a packet of the measured window (by its send stamp, NaN: bad) and its latency. */
  function arrived(s: Subscriber<C>, sent: number): void {
    if (Number.isNaN(sent)) return;
    const latency = nowUs() - sent;
    const inWindow = sent >= windowStart && sent < windowEnd;
    (inWindow ? histogram : warmUp).add(latency);
    (inWindow ? timeline : warmUpTimeline).add(sent, latency);
    if (inWindow) s.received++;
  }

  function onSubscriberMedia(s: Subscriber<C>, d: Buffer, from: RemoteInfo): void {
    if (counting === undefined) return;
    const b1 = d[1] ?? 0;
    if (hooks.fromServer(s.client, from)) {
      if (counting !== 'sfu' || (b1 >= 192 && b1 <= 223)) return; // RTCP (SR) from the server
      const keys = s.client.remoteKeys;
      if (keys === undefined) return;
      s.reader ??= new StampReader(PROFILE, keys);
      arrived(s, s.check.stampOf(d, s.reader, s.sfuUnprotect));
    } else if (counting === 'direct' || counting === 'relay') {
      arrived(s, s.check.stampOf(d, s.directReader, s.directUnprotect));
    }
  }

  async function addSubscriber(a: Audience<C>) {
    const client = await hooks.open(a.url, a.udpPort);
    const directRx = new SrtpSession({ profile: PROFILE, keys: a.directKeys, replayWindow: 1024 });
    const s: Subscriber<C> = {
      client,
      directRx,
      directReader: new StampReader(PROFILE, a.directKeys),
      reader: undefined,
      check: new ReceiveCheck(verifyEvery),
      sfuUnprotect: (d) => {
        const n = client.srtp?.unprotectInPlace(d);
        return typeof n === 'number' ? n : undefined;
      },
      directUnprotect: (d) => {
        const n = directRx.unprotectRtp(d, d.length, d);
        return typeof n === 'number' ? n : undefined;
      },
      received: 0,
    };
    client.onMedia = (d, from) => onSubscriberMedia(s, d, from);
    try {
      await hooks.subscribe(client, a.room, a.ref);
    } catch (err) {
      client.close();
      process.stderr.write(`${hooks.label} subscriber: ${String(err)}\n`);
      return undefined;
    }
    a.subscribers.push(s);
    return s;
  }

  /** Connects `n` subscribers to `a`'s room, a few at a time; resolves with the failures. */
  async function addSubscribers(a: Audience<C>, n: number) {
    let failed = 0;
    for (let i = 0; i < n; i += hooks.concurrentConnects) {
      const batch = Array.from({ length: Math.min(hooks.concurrentConnects, n - i) }, () =>
        addSubscriber(a),
      );
      for (const s of await Promise.all(batch)) if (s === undefined) failed++;
    }
    return failed;
  }

  async function setUpRoom(plan: RoomPlan, url: string, udpPort: number): Promise<number> {
    const client = await hooks.open(url, udpPort);
    const k = profileParameters(PROFILE);
    const keys = { masterKey: randomBytes(k.keyLength), masterSalt: randomBytes(k.saltLength) };
    const p: Publisher<C> = {
      client,
      room: plan.id,
      url,
      udpPort,
      ssrc: randomSsrc(),
      directSsrc: randomSsrc(),
      pt: 0,
      seq: 0,
      directSeq: 0,
      directTx: new SrtpSession({ profile: PROFILE, keys }),
      directKeys: keys,
      directPorts: [],
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
      await hooks.publish(client, p.room, p.ssrc);
    } catch (err) {
      client.close();
      process.stderr.write(`${hooks.label} publisher: ${String(err)}\n`);
      return plan.subscribers + 1;
    }
    p.pt = hooks.payloadType(client);
    publishers.set(plan.id, p);
    const publication: Publication = {
      id: plan.id,
      url,
      udpPort,
      masterKey: keys.masterKey.toString('hex'),
      masterSalt: keys.masterSalt.toString('hex'),
      ref: hooks.publisherRef(client),
    };
    if (plan.elsewhere === true) {
      published.push(publication);
      return 0;
    }
    const a = audienceOf(publication);
    const failed = await addSubscribers(a, plan.subscribers);
    p.directPorts = portsOf(a);
    return failed;
  }

  /** The audience here of a room (made on first use) whose publisher `pub` describes. */
  function audienceOf(pub: Publication): Audience<C> {
    let a = audiences.get(pub.id);
    if (a === undefined) {
      a = {
        room: pub.id,
        url: pub.url,
        udpPort: pub.udpPort,
        directKeys: {
          masterKey: Buffer.from(pub.masterKey, 'hex'),
          masterSalt: Buffer.from(pub.masterSalt, 'hex'),
        },
        ref: pub.ref,
        subscribers: [],
      };
      audiences.set(pub.id, a);
    }
    return a;
  }

  const portsOf = (a: Audience<C>): number[] => a.subscribers.map((s) => s.client.port);

  function counts(): { publishers: number; subscribers: number } {
    let subscribers = 0;
    for (const a of audiences.values()) subscribers += a.subscribers.length;
    return { publishers: publishers.size, subscribers };
  }

  function packet(p: Publisher<C>, mode: PhaseMode, now: number): Buffer {
    const key = p.keyFrameDue || now - p.lastKeyFrameAt >= KEY_FRAME_INTERVAL_MS;
    if (key) {
      p.keyFrameDue = false;
      p.lastKeyFrameAt = now;
    }
    const seq = mode === 'sfu' ? p.seq++ : p.directSeq++;
    clear[0] = 0x80;
    clear[1] = 0x80 | p.pt; // marker: every packet ends a (small) frame
    clear.writeUInt16BE(seq & 0xffff, 2);
    clear.writeUInt32BE((seq * 865) >>> 0, 4); // 90 kHz / ~104 packets/s
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

  function sendOne(p: Publisher<C>, mode: PhaseMode, now: number): void {
    const c = packet(p, mode, now);
    if (mode === 'sfu') {
      const out = p.client.srtp?.protectRtp(c);
      if (out === undefined || typeof out === 'string') return;
      p.client.send(out);
    } else {
      // A fresh buffer: dgram may still hold it queued while the next packet is built.
      const out = Buffer.allocUnsafe(c.length + 16);
      const n = p.directTx.protectRtp(c, c.length, out);
      if (typeof n !== 'number') return;
      const datagram = out.subarray(0, n);
      if (mode === 'relay') p.client.socket.send(datagram, relayPort, hooks.address);
      else for (const port of p.directPorts) p.client.socket.send(datagram, port, hooks.address);
    }
    p.sent++;
  }

  async function runPhase(
    mode: PhaseMode,
    warmupMs: number,
    durationMs: number,
    drainMs: number,
    every: number,
    tickMs: number,
    windowAtUs: number | undefined,
  ): Promise<void> {
    histogram = new Histogram();
    if (mode === 'relay') {
      // The relay's routes, before any media on the same sockets (loopback keeps the order).
      for (const p of publishers.values()) {
        p.client.socket.send(routeDatagram(p.directPorts), relayPort, hooks.address);
      }
    }
    verifyEvery = every;
    for (const p of publishers.values()) {
      p.sent = 0;
      p.sentInWindow = 0;
      p.keyFrameDue = true;
    }
    for (const a of audiences.values()) {
      for (const s of a.subscribers) {
        s.received = 0;
        if (s.check.verifyEvery !== verifyEvery) s.check = new ReceiveCheck(verifyEvery);
        s.check.reset();
      }
    }
    const delay = monitorEventLoopDelay({ resolution: 10 });
    counting = mode;
    const start = performance.now();
    const sendMs = warmupMs + durationMs;
    // The parent's window when it gives one (the same in every child: one monotonic clock), so
    // a publisher here and its subscribers elsewhere count the same packets.
    windowStart = windowAtUs ?? nowUs() + warmupMs * 1000;
    windowEnd = windowStart + durationMs * 1000;
    timeline = new SlowTimeline(windowStart, durationMs);
    warmUpTimeline = new SlowTimeline(windowStart - warmupMs * 1000, warmupMs);
    let cpu0 = process.cpuUsage();
    const warm = setTimeout(() => {
      cpu0 = process.cpuUsage();
      gcWatch.take();
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
      }, tickMs);
    });
    clearTimeout(warm);
    const cpu = process.cpuUsage(cpu0);
    const gc = gcWatch.take();
    delay.disable();
    await new Promise((r) => setTimeout(r, drainMs));
    counting = undefined;
    const t = { sent: 0, expected: 0, received: 0, badPackets: 0, verified: 0 };
    for (const p of publishers.values()) {
      t.sent += p.sentInWindow;
      t.expected += p.sentInWindow * p.directPorts.length;
    }
    for (const a of audiences.values()) {
      for (const s of a.subscribers) {
        t.received += s.received;
        t.badPackets += s.check.bad;
        t.verified += s.check.verified;
      }
    }
    reply({
      type: 'phase-done',
      ...t,
      histogram: histogram.toArray(),
      timeline: { all: timeline.all, slow: timeline.slow },
      cpuUs: cpu.user + cpu.system,
      loopDelayP99Ms: delay.count > 0 ? delay.percentile(99) / 1e6 : 0,
      gc,
    });
  }

  async function handle(m: ClientIn): Promise<void> {
    if (m.type === 'connect') {
      let failed = 0;
      published.length = 0;
      for (let i = 0; i < m.rooms.length; i += hooks.concurrentRooms) {
        const batch = m.rooms.slice(i, i + hooks.concurrentRooms);
        const set = batch.map((r) => setUpRoom(r, r.url ?? m.url, r.udpPort ?? m.udpPort));
        for (const f of await Promise.all(set)) {
          failed += f;
        }
      }
      reply({ type: 'connected', ...counts(), failed, published: [...published] });
    } else if (m.type === 'join') {
      // --split-rooms: the subscribers of rooms whose publishers another child holds.
      let failed = 0;
      const ports: { id: string; ports: number[] }[] = [];
      for (const r of m.rooms) {
        const a = audienceOf(r.publication);
        failed += await addSubscribers(a, r.subscribers);
        ports.push({ id: a.room, ports: portsOf(a) });
      }
      reply({ type: 'connected', ...counts(), failed, ports });
    } else if (m.type === 'direct-ports') {
      for (const r of m.rooms) {
        const p = publishers.get(r.id);
        if (p) p.directPorts = r.ports;
      }
      reply({ type: 'connected', ...counts(), failed: 0 });
    } else if (m.type === 'add-subscribers') {
      let failed = 0;
      for (const r of m.rooms) {
        const a = audiences.get(r.id);
        failed += a ? await addSubscribers(a, r.subscribers) : r.subscribers;
      }
      reply({ type: 'connected', ...counts(), failed });
    } else if (m.type === 'phase') {
      const tick = m.tickMs ?? SEND_TICK_MS;
      if (m.mode === 'relay') {
        if (m.relayPort === undefined) throw new Error('a relay phase needs relayPort');
        relayPort = m.relayPort;
      }
      await runPhase(
        m.mode,
        m.warmupMs,
        m.durationMs,
        m.drainMs,
        m.verifyEvery,
        tick,
        m.windowAtUs,
      );
    } else {
      for (const a of audiences.values()) for (const s of a.subscribers) s.client.close();
      for (const p of publishers.values()) p.client.close();
      audiences.clear();
      publishers.clear();
      await hooks.closed?.();
      // Exit once the reply is flushed (and, with --cpu-prof, the profile written).
      process.send?.({ type: 'closed' } satisfies ClientOut, () => process.exit(0));
    }
  }

  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    handle(m as ClientIn).catch((err: unknown) => reply({ type: 'error', message: String(err) }));
  });
  // The parent went away (killed, or the run was interrupted): nothing left to measure for.
  process.on('disconnect', () => process.exit(0));
}
