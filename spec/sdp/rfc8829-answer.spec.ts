/**
 * `createAnswer()` (RFC 8829 §5.3, RFC 3264 §6): the answer's shape, the DTLS role rules of
 * RFC 5763 §5, what gets rejected, and the stable codes for offers we refuse. werift's
 * `setRemoteDescription` must accept the answer to its own offer.
 */
import t from 'tap';
import { RTCPeerConnection } from 'werift';
import {
  type AnswerOptions,
  bundleGroupsOf,
  createAnswer,
  directionOf,
  fingerprintsOf,
  iceParametersOf,
  midOf,
  parse,
  removeAttributes,
  type SessionDescription,
  serialize,
  setupOf,
} from '../../lib/sdp/index.js';
import { CHROMIUM_SIMULCAST_OFFER, WERIFT_OFFER } from '../helpers/sdp-captures.js';

const OPTIONS: AnswerOptions = {
  ice: { ufrag: 'uf', pwd: 'passwordpasswordpassword' },
  fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }],
  sessionId: '77',
};

function load(text: string): SessionDescription {
  const r = parse(text);
  if (!r.ok) throw new Error('parse failed');
  return r.value;
}

function answer(
  offer: SessionDescription,
  options: Partial<AnswerOptions> = {},
): SessionDescription {
  const r = createAnswer(offer, { ...OPTIONS, ...options });
  if (!r.ok) throw new Error(`answer refused: ${JSON.stringify(r.error)}`);
  return r.value;
}

t.test('the answer mirrors mids, bundles them and carries our ICE/DTLS', async (t) => {
  const a = answer(load(CHROMIUM_SIMULCAST_OFFER));
  const text = serialize(a);
  t.same(a.media.map(midOf), ['0', '1', '2']);
  t.same(bundleGroupsOf(a), [['0', '1', '2']]);
  t.match(text, /^v=0\r\no=rtcd 77 1 IN IP4 0\.0\.0\.0\r\ns=-\r\nt=0 0\r\n/);
  t.match(text, /a=ice-lite\r\n/);
  t.match(text, /a=extmap-allow-mixed\r\n/, 'echoed because offered');
  for (const m of a.media) {
    t.same(iceParametersOf(m.lines, a.session), {
      ufrag: 'uf',
      pwd: 'passwordpasswordpassword',
      options: [],
      lite: true,
    });
    t.same(fingerprintsOf(m.lines), OPTIONS.fingerprints);
    t.equal(setupOf(m.lines), 'passive');
  }
  t.same(
    a.media.map((m) => directionOf(m)),
    ['sendrecv', 'recvonly', 'sendrecv'],
  );
  t.same(a.media[0]!.formats, ['111']);
  t.same(a.media[1]!.formats, ['96', '97', '108', '109', '45', '46', '98', '99']);
  t.match(text, /a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n/, 'offered id kept');
  t.notMatch(text, /toffset|video-orientation/, 'extensions we do not list are dropped');
  t.match(text, /m=application 9 UDP\/DTLS\/SCTP webrtc-datachannel\r\n/);
  t.match(text, /a=sctp-port:5000\r\na=max-message-size:262144\r\n/);
  t.equal(serialize(load(text)), text, 'the answer itself round-trips');
  const lite = answer(load(CHROMIUM_SIMULCAST_OFFER), { iceLite: false, endOfCandidates: false });
  t.notMatch(serialize(lite), /ice-lite|end-of-candidates/);
});

t.test('DTLS roles (RFC 5763 §5, RFC 8842)', async (t) => {
  const roleFor = (offered: string, ours?: 'active' | 'passive'): string | undefined => {
    const o = load(CHROMIUM_SIMULCAST_OFFER);
    for (const m of o.media) {
      removeAttributes(m.lines, 'setup');
      if (offered !== '') m.lines.push({ type: 'a', value: `setup:${offered}` });
    }
    return setupOf(answer(o, ours === undefined ? {} : { setup: ours }).media[0]!.lines);
  };
  t.equal(roleFor('actpass'), 'passive');
  t.equal(roleFor('actpass', 'active'), 'active');
  t.equal(roleFor('active', 'active'), 'passive', 'an active offerer forces passive');
  t.equal(roleFor('passive'), 'active');
  t.equal(roleFor(''), 'passive', 'no a=setup: the offerer is active (RFC 4145 default)');
});

t.test('rejections: offered port 0, outside the bundle, no common codec, data off', async (t) => {
  const o = load(CHROMIUM_SIMULCAST_OFFER);
  o.media[0]!.port = 0;
  let a = answer(o);
  t.same(
    a.media.map((m) => m.port),
    [0, 9, 9],
  );
  t.same(bundleGroupsOf(a), [['1', '2']]);
  t.match(
    serialize(a),
    /m=audio 0 UDP\/TLS\/RTP\/SAVPF 111\r\nc=IN IP4 0\.0\.0\.0\r\na=mid:0\r\na=inactive\r\n/,
  );
  a = answer(load(CHROMIUM_SIMULCAST_OFFER), { audioCodecs: [{ name: 'PCMU', clockRate: 8000 }] });
  t.same(a.media[0]!.formats, ['0'], 'PCMU if that is all we take');
  a = answer(load(CHROMIUM_SIMULCAST_OFFER), { videoCodecs: [], dataChannels: false });
  t.same(
    a.media.map((m) => m.port),
    [9, 0, 0],
  );
  const outside = load(CHROMIUM_SIMULCAST_OFFER);
  outside.session = outside.session.map((l) =>
    l.value.startsWith('group:BUNDLE') ? { type: 'a', value: 'group:BUNDLE 0 1' } : l,
  );
  t.same(
    answer(outside).media.map((m) => m.port),
    [9, 9, 0],
    'mid 2 is not in the group',
  );
});

t.test('choices per section: direction, msid, ssrcs', async (t) => {
  const a = answer(load(CHROMIUM_SIMULCAST_OFFER), {
    media: (m, mid) =>
      mid === '0'
        ? {
            direction: 'sendonly',
            msid: { streamId: 's', trackId: 't' },
            ssrcs: [{ ssrc: 5, attribute: 'cname', value: 'c' }],
            ssrcGroups: [{ semantics: 'FID', ssrcs: [5, 6] }],
          }
        : { direction: m.kind === 'video' ? 'inactive' : 'sendrecv' },
  });
  const text = serialize(a);
  t.match(text, /a=sendonly\r\na=msid:s t\r\n/);
  t.match(text, /a=ssrc-group:FID 5 6\r\na=ssrc:5 cname:c\r\n/);
  t.equal(directionOf(a.media[1]!), 'inactive');
  t.notMatch(text, /a=simulcast/, 'no simulcast when we do not receive');
});

const broken: [string, (o: SessionDescription) => void, string, string | undefined][] = [
  [
    'no BUNDLE',
    (o) => (o.session = o.session.filter((l) => !l.value.startsWith('group:'))),
    'no-bundle',
    undefined,
  ],
  ['a section without mid', (o) => removeAttributes(o.media[1]!.lines, 'mid'), 'missing-mid', '1'],
  [
    'a repeated mid',
    (o) => {
      removeAttributes(o.media[2]!.lines, 'mid');
      o.media[2]!.lines.push({ type: 'a', value: 'mid:0' });
    },
    'duplicate-mid',
    '0',
  ],
  [
    'no ice-pwd',
    (o) => removeAttributes(o.media[0]!.lines, 'ice-pwd'),
    'missing-ice-credentials',
    '0',
  ],
  [
    'no fingerprint',
    (o) => removeAttributes(o.media[1]!.lines, 'fingerprint'),
    'missing-fingerprint',
    '1',
  ],
  ['no rtcp-mux', (o) => removeAttributes(o.media[0]!.lines, 'rtcp-mux'), 'no-rtcp-mux', '0'],
  [
    'setup:holdconn',
    (o) => {
      removeAttributes(o.media[0]!.lines, 'setup');
      o.media[0]!.lines.push({ type: 'a', value: 'setup:holdconn' });
    },
    'bad-setup',
    '0',
  ],
];
for (const [name, mutate, code, mid] of broken) {
  t.test(`an offer with ${name} is refused with ${code}`, async (t) => {
    const o = load(CHROMIUM_SIMULCAST_OFFER);
    mutate(o);
    const r = createAnswer(o, OPTIONS);
    t.equal(r.ok, false);
    if (!r.ok) {
      t.equal(r.error.code, code);
      t.equal(r.error.mid, mid);
    }
  });
}

t.test('an empty fingerprint list is a programming error', async (t) => {
  t.throws(
    () => createAnswer(load(CHROMIUM_SIMULCAST_OFFER), { ...OPTIONS, fingerprints: [] }),
    TypeError,
  );
});

t.test('werift accepts the answer to its own offer', async (t) => {
  t.ok(createAnswer(load(WERIFT_OFFER), OPTIONS).ok, 'the captured werift offer is answerable');
  // max-bundle: with werift's default, the transport of the second m-line outlives close()
  // and keeps the process alive.
  const pc = new RTCPeerConnection({
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    bundlePolicy: 'max-bundle',
  });
  t.teardown(() => pc.close());
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.createDataChannel('chat');
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  const o = load(offer.sdp);
  t.equal(serialize(o), offer.sdp, 'the live werift offer round-trips');
  const a = answer(o, {
    candidates: ['1 1 udp 2130706431 127.0.0.1 40000 typ host'],
    fingerprints: [
      { algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') },
    ],
    media: (m) =>
      m.kind === 'video' ? { ssrcs: [{ ssrc: 42, attribute: 'cname', value: 'x' }] } : {},
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: serialize(a) });
  t.same(
    pc.getTransceivers().map((x) => x.currentDirection),
    ['sendrecv', 'recvonly'],
  );
  t.equal(pc.remoteDescription?.sdp !== undefined, true);
});
