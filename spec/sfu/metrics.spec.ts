/**
 * `SfuServer.stats()` and `GET /metrics` (Prometheus text, prom-client as `rtcd turn` and
 * `rtcd signal`) with a real DTLS-SRTP publisher and viewer (NodePeer): forwarded packets and
 * bytes, the PLI sent upstream when the viewer subscribes (RFC 4585 §6.3.1), a NACK upstream
 * for a packet the SFU missed and the viewer's NACK answered from the cache (§6.2.1), its PLI,
 * HTTP errors by code; totals survive the participants leaving.
 */
import t from 'tap';
import {
  decodeRtcp,
  encodeRtcp,
  nackPairsFromSequences,
  type RtcpPacket,
} from '../../lib/rtcp/index.js';
import { startSfu } from '../helpers/sfu-fixture.js';
import { RTX_PT, type Session, startOpsSfu, until, vp8Packet } from './ops-peer.js';

const { sfu, url, connect } = await startOpsSfu(t);

const rtcpOf = (s: Session): RtcpPacket[] =>
  s.peer.rtcp.flatMap((b) => {
    const r = decodeRtcp(b);
    return r.ok ? r.packets : [];
  });

/** `name{labels} value` lines of a Prometheus text body, by series. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return parseMetrics(await res.text());
}

const SSRC = 0x5000;
const pub = await connect('/whip/m', [{ kind: 'video', ssrc: SSRC }]);
const viewer = await connect('/whep/m', [{ kind: 'video', rtx: true }]);
const consumerSsrc = viewer.ssrcs[0]!;

t.test('a new viewer makes the SFU ask the publisher for a key frame (PLI)', async (t) => {
  t.ok(
    await until(() => rtcpOf(pub).some((p) => p.kind === 'pli' && p.mediaSsrc === SSRC)),
    'the publisher got a PLI for its track',
  );
  t.ok(sfu.stats().packets.keyFrameRequestsSent >= 1);
});

t.test(
  "forwarding, a NACK upstream for a gap, the viewer's NACK, PLI and FIR, in stats()",
  async (t) => {
    for (let seq = 0; seq < 20; seq++)
      if (seq !== 10) pub.peer.sendRtp(vp8Packet(SSRC, seq, seq === 0));
    t.ok(await until(() => viewer.peer.rtp.length >= 19), 'the viewer got 19 packets');
    t.ok(
      await until(() => rtcpOf(pub).some((p) => p.kind === 'nack' && p.mediaSsrc === SSRC)),
      'the SFU NACKed the missing packet upstream',
    );
    const first = viewer.peer.rtp[0]!.readUInt16BE(2);
    const nack = {
      kind: 'nack' as const,
      senderSsrc: 1,
      mediaSsrc: consumerSsrc,
      pairs: nackPairsFromSequences([first]),
    };
    viewer.peer.sendRtcp(encodeRtcp([nack]));
    t.ok(await until(() => viewer.peer.rtp.length >= 20), 'the NACKed packet came again');
    const rtx = viewer.peer.rtp.at(-1)!;
    t.equal(rtx[1]! & 0x7f, RTX_PT, 'as RTX (a plain resend would be an SRTP replay)');
    t.equal(rtx.readUInt32BE(8), viewer.ssrcs[1], 'on the RTX SSRC of the FID group');
    t.equal(rtx.readUInt16BE(12), first, 'carrying the original sequence number');
    viewer.peer.sendRtcp(encodeRtcp([{ kind: 'pli', senderSsrc: 1, mediaSsrc: consumerSsrc }]));
    t.ok(await until(() => sfu.stats().packets.plisReceived >= 1));
    const fir = {
      kind: 'fir' as const,
      senderSsrc: 1,
      mediaSsrc: 0,
      entries: [{ ssrc: consumerSsrc, sequenceNumber: 1 }],
    };
    viewer.peer.sendRtcp(encodeRtcp([fir]));
    t.ok(await until(() => sfu.stats().packets.firsReceived >= 1));

    const s = sfu.stats();
    t.match(s, {
      rooms: 1,
      participants: 2,
      producers: 1,
      consumers: 1,
      sessions: 2,
      pendingEndpoints: 0,
    });
    t.equal(s.packets.rtpReceived, 19);
    t.equal(s.packets.rtpSent, 20, '19 forwarded + 1 retransmission');
    t.equal(s.packets.rtpBytesSent, 20 * 24 + 2, 'RTX adds the 2-byte OSN');
    t.equal(s.packets.retransmissionsSent, 1);
    t.equal(s.packets.nacksReceived, 1);
    t.ok(s.packets.nacksSent >= 1);
    t.equal(s.packets.plisReceived, 1);
    t.equal(s.packets.firsReceived, 1);
    t.ok(s.packets.rtcpReceived >= 3);
  },
);

t.test('GET /metrics: the same numbers as Prometheus text', async (t) => {
  // The SFU's timers may send another NACK or key-frame request while the scrape is in
  // flight: its counters must lie between the stats() read before and after it.
  const before = sfu.stats();
  const res = await fetch(`${url}/metrics`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.match(text, /# HELP rtcd_sfu_forwarded_packets_total /);
  t.match(text, /# TYPE rtcd_sfu_forwarded_packets_total counter/);
  t.match(text, /# TYPE rtcd_sfu_rooms gauge/);
  const m = parseMetrics(text);
  const s = sfu.stats();
  const between = (name: string, key: 'nacksSent' | 'keyFrameRequestsSent') => {
    const v = m.get(name) ?? Number.NaN;
    t.ok(
      v >= before.packets[key] && v <= s.packets[key],
      `${name} ${v} in [${before.packets[key]}, ${s.packets[key]}]`,
    );
  };
  t.equal(m.get('rtcd_sfu_rooms'), 1);
  t.equal(m.get('rtcd_sfu_participants'), 2);
  t.equal(m.get('rtcd_sfu_producers'), 1);
  t.equal(m.get('rtcd_sfu_consumers'), 1);
  t.equal(m.get('rtcd_sfu_sessions'), 2);
  t.equal(m.get('rtcd_sfu_forwarded_packets_total'), s.packets.rtpSent);
  t.equal(m.get('rtcd_sfu_forwarded_bytes_total'), s.packets.rtpBytesSent);
  t.equal(m.get('rtcd_sfu_retransmissions_total'), 1);
  t.equal(m.get('rtcd_sfu_nacks_received_total'), 1);
  between('rtcd_sfu_nacks_sent_total', 'nacksSent');
  t.equal(m.get('rtcd_sfu_plis_received_total'), 1);
  t.equal(m.get('rtcd_sfu_firs_received_total'), 1);
  between('rtcd_sfu_keyframe_requests_sent_total', 'keyFrameRequestsSent');

  const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '', 'HEAD: no body');
  const post = await fetch(`${url}/metrics`, { method: 'POST' });
  t.equal(post.status, 405);
});

t.test('drops and HTTP errors appear by reason and code', async (t) => {
  pub.peer.send(Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9]));
  t.ok(await until(() => Object.keys(sfu.stats().drops.endpoint).length > 0));
  t.equal((await fetch(`${url}/nowhere`)).status, 404);
  const m = await scrape();
  const reason = Object.keys(sfu.stats().drops.endpoint)[0]!;
  t.ok(
    (m.get(`rtcd_sfu_dropped_packets_total{where="endpoint",reason="${reason}"}`) ?? 0) >= 1,
    `endpoint drop ${reason}`,
  );
  t.equal(m.get('rtcd_sfu_http_errors_total{code="not-found"}'), 1);
  t.ok((m.get('rtcd_sfu_http_requests_total') ?? 0) >= 6);
});

t.test('totals survive the participants leaving; gauges fall to 0', async (t) => {
  const before = sfu.stats();
  const m0 = await scrape();
  for (const s of [viewer, pub]) {
    t.equal((await fetch(`${url}${s.location}`, { method: 'DELETE' })).status, 200);
  }
  const after = sfu.stats();
  t.match(after, { rooms: 0, participants: 0, producers: 0, consumers: 0, sessions: 0 });
  // A router tick between the snapshot and the DELETEs may still send (a NACK retry), so the
  // totals may grow up to the leave — never shrink — and stay put once nobody is left.
  for (const [k, v] of Object.entries(before.packets)) {
    t.ok(after.packets[k as keyof typeof after.packets] >= v, `packets.${k} kept (${v})`);
  }
  for (const [k, v] of Object.entries(before.drops.endpoint)) {
    t.ok((after.drops.endpoint[k] ?? 0) >= v, `drops.endpoint.${k} kept (${v})`);
  }
  await new Promise((r) => setTimeout(r, 150));
  t.same(sfu.stats().packets, after.packets, 'totals stay put with no participant');
  t.equal(after.closed.deleted, 2);
  const m = await scrape();
  t.equal(m.get('rtcd_sfu_rooms'), 0);
  const forwarded = m.get('rtcd_sfu_forwarded_packets_total') ?? 0;
  t.ok(forwarded >= (m0.get('rtcd_sfu_forwarded_packets_total') ?? 1), 'forwarded total kept');
  t.equal(forwarded, sfu.stats().packets.rtpSent, '/metrics says what stats() says');
  t.equal(m.get('rtcd_sfu_participants_closed_total{reason="deleted"}'), 2);
});

t.test('metrics: false serves no /metrics', async (t) => {
  const quiet = await startSfu(t, { metrics: false });
  t.equal((await fetch(`${quiet.url}/metrics`)).status, 404);
});
