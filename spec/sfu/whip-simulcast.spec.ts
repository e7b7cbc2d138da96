/**
 * `answerPublish` for simulcast publishers (RFC 8853 §5.3 answerer, RFC 8851 rid, RFC 8852
 * rid header extensions): a real Chromium offer with three rids becomes one producer with three
 * layers, and the edge cases — restrictions deciding the order, paused and alternative rids,
 * unknown restrictions, too many rids, rids without `a=simulcast`, legacy SIM groups.
 */
import t, { type Test } from 'tap';
import {
  type MediaSection,
  parse,
  ridsOf,
  type SessionDescription,
  simulcastOf,
} from '../../lib/sdp/index.js';
import { orderLowToHigh } from '../../lib/sfu/simulcast-offer.js';
import { type AnswerTransport, answerPublish, WhipError } from '../../lib/sfu/whip.js';
import { CHROMIUM_RID_SIMULCAST_OFFER } from '../helpers/simulcast-captures.js';

const TRANSPORT: AnswerTransport = {
  ice: { ufrag: 'uf', pwd: 'passwordpasswordpassword' },
  fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }],
};

const RID_EXT = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const RRID_EXT = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
const MID_EXT = 'urn:ietf:params:rtp-hdrext:sdes:mid';

function load(text: string): SessionDescription {
  const r = parse(text);
  if (!r.ok) throw new Error('parse failed');
  return r.value;
}

/** The Chromium offer with its rid/simulcast lines replaced by `lines`. */
function withRids(lines: readonly string[], edit?: (m: MediaSection) => void): SessionDescription {
  const o = load(CHROMIUM_RID_SIMULCAST_OFFER);
  const m = o.media[0]!;
  m.lines = m.lines.filter((l) => !/^(rid|simulcast):/.test(l.value));
  for (const v of lines) m.lines.push({ type: 'a', value: v });
  edit?.(m);
  return o;
}

function publish(o: SessionDescription) {
  const a = answerPublish(o, TRANSPORT);
  const answer = load(a.sdp).media[0]!;
  return { ...a, answer, text: a.sdp };
}

function refused(t: Test, o: SessionDescription, code: string): void {
  try {
    answerPublish(o, TRANSPORT);
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof WhipError, 'a WhipError');
    t.equal((err as WhipError).status, 422);
    t.equal((err as WhipError).code, code);
  }
}

t.test('Chromium l/m/h: one producer, three rid layers lowest first, answered recv', async (t) => {
  const { producers, answer, text } = publish(load(CHROMIUM_RID_SIMULCAST_OFFER));
  t.equal(producers.length, 1, 'one producer for the three encodings');
  const p = producers[0]!;
  t.equal(p.mimeType, 'video/VP8');
  t.equal(p.payloadType, 96);
  t.equal(p.rtxPayloadType, 97, 'RTX negotiated: repairs carry the repaired rid');
  t.same(p.encodings, [{ rid: 'l' }, { rid: 'm' }, { rid: 'h' }], 'no SSRCs: learned by rid');
  const ext = p.headerExtensions ?? {};
  t.equal(ext[RID_EXT], 10, 'sdes:rtp-stream-id negotiated with the offered id');
  t.equal(ext[RRID_EXT], 11, 'sdes:repaired-rtp-stream-id too');
  t.equal(ext[MID_EXT], 9, 'and sdes:mid');
  t.match(text, /a=recvonly\r\n/);
  t.match(text, /a=rid:l recv\r\na=rid:m recv\r\na=rid:h recv\r\na=simulcast:recv l;m;h\r\n/);
  t.same(simulcastOf(answer.lines), {
    recv: [
      [{ rid: 'l', paused: false }],
      [{ rid: 'm', paused: false }],
      [{ rid: 'h', paused: false }],
    ],
  });
});

t.test('restrictions decide the order; the answer keeps the offer’s', async (t) => {
  const { producers, text } = publish(
    withRids([
      'rid:hi send max-width=1280;max-height=720',
      'rid:lo send max-width=320;max-height=180',
      'rid:mid send max-width=640;max-height=360',
      'simulcast:send hi;lo;mid',
    ]),
  );
  t.same(
    producers[0]?.encodings.map((e) => e.rid),
    ['lo', 'mid', 'hi'],
    'lowest pixel count first',
  );
  t.match(text, /a=rid:hi recv max-width=1280;max-height=720\r\n/, 'restrictions kept');
  t.match(text, /a=simulcast:recv hi;lo;mid\r\n/, 'the answer lists them as offered');

  const br = publish(
    withRids([
      'rid:a send max-br=2500000',
      'rid:b send max-br=150000',
      'rid:c send max-br=600000',
      'simulcast:send a;b;c',
    ]),
  );
  t.same(
    br.producers[0]?.encodings,
    [
      { rid: 'b', maxBitrate: 150000 },
      { rid: 'c', maxBitrate: 600000 },
      { rid: 'a', maxBitrate: 2500000 },
    ],
    'max-br orders and becomes the layer’s declared bitrate',
  );

  const mixed = publish(
    withRids([
      'rid:x send max-width=1280',
      'rid:y send max-height=180',
      'rid:z send',
      'simulcast:send x;y;z',
    ]),
  );
  t.same(
    mixed.producers[0]?.encodings.map((e) => e.rid),
    ['x', 'y', 'z'],
    'no restriction shared by all: the offer’s order (publishers list low → high)',
  );
});

t.test('orderLowToHigh: max-br, then pixels, width, height; ties keep order', async (t) => {
  const rid = (id: string, ...r: [string, string][]) => ({
    id,
    direction: 'send' as const,
    restrictions: r,
  });
  const ids = (rs: ReturnType<typeof rid>[]) => orderLowToHigh(rs).map((r) => r.id);
  t.same(ids([rid('a', ['max-fs', '3600']), rid('b', ['max-fs', '900'])]), ['b', 'a']);
  t.same(ids([rid('a', ['max-width', '640']), rid('b', ['max-width', '320'])]), ['b', 'a']);
  t.same(ids([rid('a', ['max-height', '720']), rid('b', ['max-height', '180'])]), ['b', 'a']);
  t.same(ids([rid('a', ['max-br', '9']), rid('b', ['max-br', '9'])]), ['a', 'b'], 'stable');
  t.same(ids([rid('a', ['max-br', 'x']), rid('b', ['max-br', '1'])]), ['a', 'b'], 'malformed');
});

t.test('paused streams, alternatives, unknown restrictions, repeated rids', async (t) => {
  const { producers, text, answer } = publish(
    withRids([
      'rid:a send',
      'rid:b send max-fps=15;x-custom=1;depend=a',
      'rid:c send',
      'rid:d send',
      'simulcast:send a,b;~c;d;a;ghost',
    ]),
  );
  t.same(
    producers[0]?.encodings.map((e) => e.rid),
    ['a', 'c', 'd'],
    'one rid per stream (the first that is not paused); a repeat and an undeclared rid dropped',
  );
  t.match(text, /a=simulcast:recv a;~c;d\r\n/, 'the paused stream stays paused in the answer');
  t.same(
    ridsOf(answer.lines).map((r) => r.id),
    ['a', 'c', 'd'],
    'only received rids are answered, in the offer’s order',
  );
  t.notMatch(text, /a=rid:b/, 'the dropped alternative is not answered');

  const r = publish(
    withRids(['rid:a send max-fps=15;x-custom=1;depend=z;max-width=640', 'simulcast:send a']),
  );
  t.match(r.text, /a=rid:a recv max-fps=15;max-width=640\r\n/, 'unknown restrictions removed');

  const paused = publish(withRids(['rid:a send', 'rid:b send', 'simulcast:send ~a,b;~b']));
  t.match(paused.text, /a=simulcast:recv b\r\n/, 'a live alternative preferred to a paused one');
});

t.test('pt restrictions are cut to the accepted payload types', async (t) => {
  const r = publish(
    withRids(['rid:a send pt=96,120', 'rid:b send pt=118', 'rid:c send', 'simulcast:send a;b;c']),
  );
  t.match(r.text, /a=rid:a recv pt=96\r\n/, 'ulpfec (120) was not accepted: only 96 left');
  t.notMatch(r.text, /a=rid:b/, 'a rid whose only payload type was refused is dropped');
  t.match(r.text, /a=simulcast:recv a;c\r\n/);
  t.same(
    r.producers[0]?.encodings.map((e) => e.rid),
    ['a', 'c'],
  );
});

t.test('more than four streams: 422 too-many-layers', async (t) => {
  const rids = ['a', 'b', 'c', 'd', 'e'];
  refused(
    t,
    withRids([...rids.map((r) => `rid:${r} send`), `simulcast:send ${rids.join(';')}`]),
    'too-many-layers',
  );
  const four = publish(
    withRids([...rids.slice(0, 4).map((r) => `rid:${r} send`), 'simulcast:send a;b;c;d']),
  );
  t.equal(four.producers[0]?.encodings.length, 4, 'four are fine');
});

t.test('rid simulcast without the rid header extension: 422', async (t) => {
  refused(
    t,
    withRids(['rid:a send', 'rid:b send', 'simulcast:send a;b'], (m) => {
      m.lines = m.lines.filter((l) => !l.value.includes('rtp-stream-id'));
    }),
    'rid-extension-required',
  );
});

t.test('rids without a=simulcast are not simulcast', async (t) => {
  refused(t, withRids(['rid:a send', 'rid:b send']), 'nothing-published');
  const withSsrc = publish(
    withRids(['rid:a send', 'rid:b send', 'ssrc:1111 cname:x', 'ssrc:2222 cname:x'], (m) => {
      m.lines.push({ type: 'a', value: 'ssrc-group:FID 1111 2222' });
    }),
  );
  t.same(withSsrc.producers[0]?.encodings, [{ ssrc: 1111, rtxSsrc: 2222 }], 'the SSRC instead');
  t.notMatch(withSsrc.text, /a=rid|a=simulcast/, 'the rids are not answered');
});

t.test('legacy a=ssrc-group:SIM: one layer per SSRC with its FID RTX', async (t) => {
  const sim = [
    'ssrc-group:FID 1 11',
    'ssrc-group:FID 2 12',
    'ssrc-group:FID 3 13',
    'ssrc-group:SIM 1 2 3',
    'ssrc:1 cname:x',
    'ssrc:2 cname:x',
    'ssrc:3 cname:x',
    'ssrc:11 cname:x',
    'ssrc:12 cname:x',
    'ssrc:13 cname:x',
  ];
  const r = publish(withRids(sim));
  t.same(r.producers[0]?.encodings, [
    { ssrc: 1, rtxSsrc: 11 },
    { ssrc: 2, rtxSsrc: 12 },
    { ssrc: 3, rtxSsrc: 13 },
  ]);
  refused(t, withRids(['ssrc-group:SIM 1 2 3 4 5', 'ssrc:1 cname:x']), 'too-many-layers');
});

t.test('an audio section’s rids and simulcast are not answered', async (t) => {
  const o = load(CHROMIUM_RID_SIMULCAST_OFFER);
  const audio: MediaSection = {
    kind: 'audio',
    port: 9,
    protocol: 'UDP/TLS/RTP/SAVPF',
    formats: ['111'],
    lines: [
      'c=IN IP4 0.0.0.0',
      'a=mid:1',
      'a=sendonly',
      'a=rtcp-mux',
      'a=rtpmap:111 opus/48000/2',
      'a=rid:a send',
      'a=rid:b send',
      'a=simulcast:send a;b',
      'a=ssrc:4444 cname:x',
    ].map((l) => ({ type: l[0]!, value: l.slice(2) })),
  };
  // The transport attributes (ICE, DTLS) as in the video section: one BUNDLE transport.
  audio.lines.push(
    ...o.media[0]!.lines.filter((l) => /^(ice-ufrag|ice-pwd|fingerprint|setup):/.test(l.value)),
  );
  o.media.push(audio);
  o.session = o.session.map((l) =>
    l.value.startsWith('group:BUNDLE') ? { type: 'a', value: 'group:BUNDLE 0 1' } : l,
  );
  const a = answerPublish(o, TRANSPORT);
  const answered = load(a.sdp).media[1]!;
  t.equal(answered.port, 9, 'the audio section is accepted');
  t.same(ridsOf(answered.lines), [], 'without rids');
  t.equal(simulcastOf(answered.lines), undefined, 'and without simulcast');
  t.same(
    a.producers.map((p) => [p.kind, p.encodings]),
    [
      ['video', [{ rid: 'l' }, { rid: 'm' }, { rid: 'h' }]],
      ['audio', [{ ssrc: 4444 }]],
    ],
  );
});
