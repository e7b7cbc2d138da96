/**
 * Child process of the end-to-end SFU bench: the SFU under test, an `SfuServer` (WHIP/WHEP on
 * 127.0.0.1, one ICE-lite UDP port) alone in this process, so its CPU time is the SFU's.
 * Reports CPU and wall time between marks, the RTP its endpoints sent and received, and memory
 * after GC. Run with `--expose-gc`.
 */
import { createSocket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tuneForForwarding } from '../../lib/cli/start-sfu.js';
import { Producer } from '../../lib/sfu/producer.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import { UdpSender } from '../../lib/util/udp-send.js';
import { BareRelay } from './bare-relay.js';
import { GcWatch } from './gc-watch.js';
import {
  Histogram,
  isMessage,
  type MemorySample,
  monoUs,
  PACKET_BYTES,
  type ServerIn,
  type ServerOut,
} from './protocol.js';
import { STAMP_AT } from './stamp-reader.js';

let sfu: SfuServer | undefined;
/** The bare relay the `relay` phases send through (idle otherwise). */
let relay: BareRelay | undefined;
let cpu = process.cpuUsage();
let wall = performance.now();
const delay = monitorEventLoopDelay({ resolution: 10 });

// Every GC pause of this process (the SFU's packets wait through each one).
const gcWatch = new GcWatch();

function reply(m: ServerOut): void {
  process.send?.(m);
}

function memory(): MemorySample {
  const gc = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

/** The SFU's drop and close counters, flattened as `router:<reason>`, `closed:<reason>`… */
function drops(s: SfuServer): Record<string, number> {
  const st = s.stats();
  const out: Record<string, number> = {};
  for (const [where, reasons] of Object.entries(st.drops)) {
    for (const [reason, n] of Object.entries(reasons)) out[`${where}:${reason}`] = n;
  }
  for (const [reason, n] of Object.entries(st.closed)) out[`closed:${reason}`] = n;
  return out;
}

/**
 * The ceiling of Node itself: sends of a forwarded packet's size (1,216 B: 1,200 of RTP and a
 * GCM tag) to the sink sockets in turn (as a fan-out goes to many subscribers), back to back
 * in batches, no crypto and no routing; the CPU per send is what every forwarded packet costs
 * before the SFU does anything. `via`: Node's `socket.send`, or the socket's handle through
 * `UdpSender` as the SFU sends by default.
 */
async function bareSend(
  ports: readonly number[],
  durationMs: number,
  via: 'dgram' | 'handle',
): Promise<{ sent: number; cpuUs: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const sender = new UdpSender(socket, { fast: via === 'handle' });
  const datagram = Buffer.alloc(PACKET_BYTES + 16, 0x80);
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++)
      sender.send(datagram, ports[(sent + i) % ports.length]!, '127.0.0.1');
    sent += 64;
    await new Promise((r) => setImmediate(r));
  }
  const used = process.cpuUsage(cpu0);
  socket.close();
  return { sent, cpuUs: used.user + used.system };
}

/**
 * `--sfu-arrival`: each RTP packet the router handles is timed against its send stamp (read
 * from the clear payload, where the bench's publishers write it): how long it waited before
 * the router had it (the publisher's send, the kernel, the SFU socket's queue while the SFU
 * was busy with earlier packets, SRTP unprotect) and how long the router took with it. The
 * clocks are comparable: every process stamps with the machine's monotonic clock (`monoUs`).
 */
const arrival = { waited: new Histogram(), handled: new Histogram(), on: false };

function timeArrivals(): void {
  const handle = Producer.prototype.handleRtp;
  const nowUs = monoUs;
  Producer.prototype.handleRtp = function (this: Producer, layer, packet, layout, now) {
    const b = packet.buffer;
    const stamp = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(
      packet.payloadOffset + STAMP_AT,
    );
    const t0 = nowUs();
    handle.call(this, layer, packet, layout, now);
    arrival.waited.add(t0 - stamp);
    arrival.handled.add(nowUs() - t0);
  };
}

function traffic(s: SfuServer): { forwarded: number; received: number } {
  let forwarded = 0;
  let received = 0;
  // The live counters, not stats(): a mark is taken while media flows, and building 500
  // endpoints' stats objects here was a scavenge and a pause of its own in the window.
  for (const r of s.resources.values()) {
    const c = r.endpoint.counters;
    forwarded += c.rtpPacketsSent;
    received += c.rtpPacketsReceived;
  }
  return { forwarded, received };
}

async function handle(m: ServerIn): Promise<void> {
  if (m.type === 'start') {
    // As `rtcd sfu` starts: SRTP's ECB results freed at once, and the old generation's
    // headroom (unless --sfu-node-option sets a --heap-growing-percent).
    tuneForForwarding();
    if (m.arrival && !arrival.on) {
      arrival.on = true;
      timeArrivals();
    }
    sfu = new SfuServer({
      // The bench's clients all come from 127.0.0.1 and connect hundreds at once: the
      // per-address request rate and the session counts are not what is measured.
      maxSessions: 1_000_000,
      maxSessionsPerRoom: 100_000,
      requestsPerSecond: 1_000_000,
      requestBurst: 1_000_000,
      metrics: false,
      fastUdpSend: m.fastUdpSend,
      router: {
        // Rooms here are calls of a publisher and its viewers; the defaults' 100 per room and
        // the 1.5 Mbit/s initial estimate (no REMB from the light clients) are not the limit.
        maxParticipantsPerRoom: 10_000,
        maxRooms: 100_000,
        initialBandwidth: 10_000_000,
      },
    });
    const { url } = await sfu.listen();
    relay = await BareRelay.open('127.0.0.1', m.relayWorkUs ?? 0);
    cpu = process.cpuUsage();
    wall = performance.now();
    reply({ type: 'ready', url, udpPort: sfu.udpAddress?.port ?? 0, relayPort: relay.port });
  } else if (m.type === 'mark') {
    if (!sfu) throw new Error('not started');
    const used = process.cpuUsage(cpu);
    const now = performance.now();
    delay.disable();
    reply({
      type: 'mark',
      cpuUs: used.user + used.system,
      wallMs: now - wall,
      loopDelayP99Ms: delay.count > 0 ? delay.percentile(99) / 1e6 : 0,
      gc: gcWatch.take(),
      ...traffic(sfu),
      sessions: sfu.resources.size,
      ...(arrival.on
        ? { arrival: { waited: arrival.waited.toArray(), handled: arrival.handled.toArray() } }
        : {}),
    });
    arrival.waited = new Histogram();
    arrival.handled = new Histogram();
    cpu = process.cpuUsage();
    wall = now;
    delay.reset();
    delay.enable();
  } else if (m.type === 'drops') {
    if (!sfu) throw new Error('not started');
    reply({ type: 'drops', drops: drops(sfu) });
  } else if (m.type === 'bare-send') {
    reply({ type: 'bare-sent', ...(await bareSend(m.ports, m.durationMs, m.via)) });
  } else if (m.type === 'memory') {
    reply({ type: 'memory', sessions: sfu?.resources.size ?? 0, ...memory() });
  } else {
    await sfu?.close();
    relay?.close();
    // Exit once the reply is flushed (and, with --cpu-prof, the profile written).
    process.send?.({ type: 'stopped' } satisfies ServerOut, () => process.exit(0));
  }
}

process.on('message', (m: unknown) => {
  if (!isMessage(m)) return;
  handle(m as ServerIn).catch((err: unknown) => reply({ type: 'error', message: String(err) }));
});
// The parent went away (killed, or the run was interrupted): nothing left to measure for.
process.on('disconnect', () => process.exit(0));
