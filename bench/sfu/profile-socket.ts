/**
 * Profiling aid (not a benchmark of record; see bench/sfu.ts and the end-to-end bench):
 * the SFU's forwarding path over real sockets, one publisher → N subscribers.
 *
 *   node --import tsx bench/sfu/profile-socket.ts [--subscribers 200] [--seconds 5]
 *     [--pps 104] [--bytes 1200]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/sfu/profile-socket.ts …
 *
 * This process runs what `SfuServer` runs for media (one `IceLiteMux`, a `WebRtcEndpoint` per
 * peer bound to a router participant, `router.tick()` every 20 ms); a child process runs the
 * peers (rtcd's own ICE/DTLS/SRTP client parts, spec/webrtc/node-peer.ts), sends the
 * publisher's SRTP at `--pps` and counts what each subscriber receives, unprotecting nothing
 * (the header is clear; the latency of packet k is its arrival minus when k was sent).
 * Reports this process's CPU µs per forwarded packet, the event-loop delay, and the child's
 * view of delivery and latency (which includes the child's own receive queue).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCertificate } from '../../lib/dtls/certificate.js';
import { IceLiteMux } from '../../lib/ice/udp-mux.js';
import { bindEndpoint, endpointSenders } from '../../lib/sfu/endpoint-leg.js';
import { Router } from '../../lib/sfu/router.js';
import type { SrtpProfileName } from '../../lib/srtp/profiles.js';
import { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import { NodePeer, PEER_PWD, PEER_UFRAG, peerCertificate } from '../../spec/webrtc/node-peer.js';

interface PeerParams {
  port: number;
  ufrag: string;
  pwd: string;
  fingerprint: string;
  role: 'client' | 'server';
}

type ToChild =
  | { type: 'peers'; peers: PeerParams[]; profile: SrtpProfileName }
  | { type: 'go'; seconds: number; pps: number; bytes: number };
type ToParent =
  | { type: 'fingerprint'; value: string }
  | { type: 'connected' }
  | { type: 'result'; sent: number; received: number[]; latencyUs: number[] };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function parent(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      subscribers: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '5' },
      pps: { type: 'string', default: '104' },
      bytes: { type: 'string', default: '1200' },
      'cpu-profile': { type: 'string' },
      profile: { type: 'string', default: 'AEAD_AES_128_GCM' },
    },
  });
  const n = Number(values.subscribers);
  const seconds = Number(values.seconds);
  const pps = Number(values.pps);
  const bytes = Number(values.bytes);
  const srtpProfile = values.profile as SrtpProfileName;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = async (): Promise<ToParent> => (await once(child, 'message'))[0] as ToParent;
  const fp = await next();
  if (fp.type !== 'fingerprint') throw new Error('child: expected fingerprint');
  const mux = await IceLiteMux.bind({ address: '127.0.0.1', port: 0, maxSessions: n + 10 });
  const certificate = await generateCertificate({ commonName: 'sfu-profile' });
  const router = new Router({
    maxParticipantsPerRoom: n + 10,
    maxRtpPacketsPerSecond: 1e6,
  });
  const ticks: number[] = [];
  const timer = setInterval(() => {
    const t = performance.now();
    router.tick();
    ticks.push(performance.now() - t);
  }, 20);
  const room = router.createRoom('profile');
  const remote = {
    iceUfrag: PEER_UFRAG,
    icePwd: PEER_PWD,
    setup: 'actpass' as const,
    fingerprints: [{ algorithm: 'sha-256' as const, value: fp.value }],
  };
  const endpoints: WebRtcEndpoint[] = [];
  const connected: Promise<unknown>[] = [];
  for (let i = 0; i <= n; i++) {
    const ep = new WebRtcEndpoint({ mux, certificate, remote, srtpProfiles: [srtpProfile] });
    connected.push(once(ep, 'connected'));
    endpoints.push(ep);
  }
  const pubEp = endpoints[0]!;
  const pub = room.join(endpointSenders(pubEp));
  bindEndpoint(pubEp, pub);
  const producer = pub.publish({
    kind: 'video',
    mimeType: 'video/VP8',
    payloadType: 96,
    clockRate: 90000,
    encodings: [{ ssrc: 0x1111 }],
  });
  for (let i = 1; i <= n; i++) {
    const ep = endpoints[i]!;
    const sub = room.join(endpointSenders(ep));
    bindEndpoint(ep, sub);
    sub.subscribe(producer, { ssrc: 0x2000 + i, payloadType: 96 });
  }
  const peers: PeerParams[] = endpoints.map((ep) => ({
    port: mux.address.port,
    ufrag: ep.localUfrag,
    pwd: ep.localPwd,
    fingerprint: ep.localFingerprint,
    role: ep.dtlsRole ?? 'server',
  }));
  const t0 = performance.now();
  child.send({ type: 'peers', peers, profile: srtpProfile } satisfies ToChild);
  const ready = await next();
  await Promise.all(connected);
  if (ready.type !== 'connected') throw new Error('child: expected connected');
  console.log(`${n + 1} peers connected in ${(performance.now() - t0).toFixed(0)} ms`);

  // Time of the synchronous fan-out of each publisher packet (receive → last send returned).
  const fanout: number[] = [];
  pubEp.prependListener('rtp', () => {
    const t = performance.now();
    queueMicrotask(() => fanout.push(performance.now() - t));
  });
  const sentBefore = endpoints.reduce((s, ep) => s + ep.stats().rtpPacketsSent, 0);
  const inspector = values['cpu-profile'] === undefined ? undefined : new Session();
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  ticks.length = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  loop.enable();
  child.send({ type: 'go', seconds, pps, bytes } satisfies ToChild);
  const result = await next();
  loop.disable();
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(values['cpu-profile']!, JSON.stringify(profile));
    inspector.disconnect();
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - w0) / 1000;
  if (result.type !== 'result') throw new Error('child: expected result');
  const forwarded = endpoints.reduce((s, ep) => s + ep.stats().rtpPacketsSent, 0) - sentBefore;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  fanout.sort((a, b) => a - b);
  const lat = result.latencyUs.sort((a, b) => a - b);
  const expected = result.sent * n;
  const received = result.received.reduce((s, r) => s + r, 0);
  const minRx = Math.min(...result.received);
  console.log(`1 publisher → ${n} subscribers, ${pps} pps × ${bytes} B, ${seconds} s`);
  console.log(
    `sfu process: ${forwarded} forwarded, CPU ${cpuS.toFixed(2)} s over ${wall.toFixed(1)} s ` +
      `(${((cpuS / wall) * 100).toFixed(0)}%), ${((cpuS * 1e6) / forwarded).toFixed(2)} µs/forwarded ` +
      `(user ${(cpu.user / forwarded).toFixed(2)}, sys ${(cpu.system / forwarded).toFixed(2)})`,
  );
  console.log(
    `sync fan-out per packet: p50 ${percentile(fanout, 0.5).toFixed(3)} ms, ` +
      `p99 ${percentile(fanout, 0.99).toFixed(3)} ms, max ${(fanout.at(-1) ?? 0).toFixed(3)} ms`,
  );
  ticks.sort((a, b) => a - b);
  console.log(
    `router.tick(): ${ticks.length} ticks, p50 ${percentile(ticks, 0.5).toFixed(3)} ms, ` +
      `p99 ${percentile(ticks, 0.99).toFixed(3)} ms, max ${(ticks.at(-1) ?? 0).toFixed(3)} ms`,
  );
  console.log(
    `event-loop delay: p50 ${(loop.percentile(50) / 1e6).toFixed(2)} ms, ` +
      `p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`,
  );
  console.log(
    `child: received ${received}/${expected} (${((1 - received / expected) * 100).toFixed(2)}% ` +
      `lost, worst subscriber ${minRx}/${result.sent}); latency p50 ` +
      `${(percentile(lat, 0.5) / 1000).toFixed(3)} ms, p99 ${(percentile(lat, 0.99) / 1000).toFixed(3)} ms`,
  );
  clearInterval(timer);
  child.kill();
  router.close();
  await mux.close();
}

async function childMain(): Promise<void> {
  const send = (m: ToParent): void => {
    process.send?.(m);
  };
  const cert = await peerCertificate();
  send({ type: 'fingerprint', value: cert.fingerprint('sha-256') });
  const [first] = (await once(process, 'message')) as [ToChild];
  if (first.type !== 'peers') throw new Error('expected peers');
  const peers: NodePeer[] = [];
  for (let i = 0; i < first.peers.length; i += 20) {
    const batch = first.peers.slice(i, i + 20);
    const opened = await Promise.all(
      batch.map(async (p) => {
        const peer = await NodePeer.open({ family: 4, address: '127.0.0.1', port: p.port });
        const ep = {
          localUfrag: p.ufrag,
          localPwd: p.pwd,
          dtlsRole: p.role,
          localFingerprint: p.fingerprint,
        };
        await peer.nominate(ep);
        await peer.connect(ep, [first.profile]);
        return peer;
      }),
    );
    peers.push(...opened);
  }
  send({ type: 'connected' });
  const [go] = (await once(process, 'message')) as [ToChild];
  if (go.type !== 'go') throw new Error('expected go');
  const [pub, ...subs] = peers;
  const sentAt = new Float64Array(0x10000);
  const received = subs.map(() => 0);
  const latencyUs: number[] = [];
  const offsets = subs.map(() => -1);
  const seq0 = 1000;
  subs.forEach((peer, i) => {
    peer.socket.removeAllListeners('message');
    peer.socket.on('message', (d: Buffer) => {
      const at = performance.now();
      if (d.length < 12 || d[0]! >> 6 !== 2 || (d[1]! >= 192 && d[1]! <= 223)) return;
      const seq = d.readUInt16BE(2);
      if (offsets[i]! < 0) offsets[i] = (seq - seq0) & 0xffff;
      received[i]!++;
      const inSeq = (seq - offsets[i]!) & 0xffff;
      if (inSeq !== seq0 && latencyUs.length < 2_000_000) {
        latencyUs.push((at - sentAt[inSeq]!) * 1000);
      }
    });
  });
  const payload = (key: boolean): Buffer => {
    const p = Buffer.alloc(go.bytes - 12, 0x55);
    p[0] = 0x10; // VP8 descriptor: S=1, PID 0
    p[1] = key ? 0x00 : 0x01; // P bit clear on a key frame
    return p;
  };
  const packet = (seq: number, key: boolean): Buffer => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = 96;
    h.writeUInt16BE(seq & 0xffff, 2);
    h.writeUInt32BE((seq * 900) >>> 0, 4);
    h.writeUInt32BE(0x1111, 8);
    return Buffer.concat([h, payload(key)]);
  };
  sentAt[seq0] = performance.now();
  pub!.sendRtp(packet(seq0, true));
  await new Promise((r) => setTimeout(r, 300));
  const total = Math.round(go.seconds * go.pps);
  const start = performance.now();
  let seq = seq0 + 1;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * go.pps) / 1000));
      while (seq - seq0 - 1 < due) {
        const p = packet(seq, false);
        sentAt[seq & 0xffff] = performance.now();
        pub!.sendRtp(p);
        seq++;
      }
      if (seq - seq0 - 1 >= total) resolve();
      else setTimeout(step, 1);
    };
    step();
  });
  await new Promise((r) => setTimeout(r, 300));
  for (const p of peers) p.close();
  process.send?.({ type: 'result', sent: total + 1, received, latencyUs } satisfies ToParent, () =>
    process.exit(0),
  );
}

if (process.argv.includes('--child')) {
  childMain().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  parent(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
