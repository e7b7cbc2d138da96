/**
 * The typed views read the attributes WebRTC uses from real offers (Chromium, werift) and from
 * a hand-written description with the rarer forms: BUNDLE (RFC 8843), mid (RFC 5888), msid
 * (RFC 8830), ICE (RFC 8839), DTLS (RFC 8122, 4145), RTP attributes (RFC 8866, 4585, 8285,
 * 5576), SCTP (RFC 8841), bandwidth.
 */
import t from 'tap';
import {
  addAttribute,
  attributeValues,
  bandwidthOf,
  bandwidthsOf,
  bundleGroupsOf,
  candidatesOf,
  directionOf,
  endOfCandidates,
  extmapsOf,
  fingerprintsOf,
  fmtpsOf,
  formatExtmap,
  formatRtcpFeedback,
  formatRtpmap,
  formatSsrc,
  formatSsrcGroup,
  groupsOf,
  iceParametersOf,
  isRejected,
  maxMessageSizeOf,
  mediaByMid,
  midOf,
  msidsOf,
  originOf,
  parse,
  parseFmtpParameters,
  removeAttributes,
  reverseDirection,
  rtcpFeedbackOf,
  rtcpMux,
  rtcpRsize,
  rtpmapsOf,
  type SessionDescription,
  sctpPortOf,
  serialize,
  setDirection,
  setupOf,
  ssrcGroupsOf,
  ssrcsOf,
} from '../../lib/sdp/index.js';
import {
  CHROMIUM_GATHERED_OFFER,
  CHROMIUM_SIMULCAST_OFFER,
  HANDWRITTEN_OFFER,
  WERIFT_OFFER,
} from '../helpers/sdp-captures.js';

function load(text: string): SessionDescription {
  const r = parse(text);
  if (!r.ok) throw new Error(`parse failed: ${JSON.stringify(r.error)}`);
  return r.value;
}

const chrome = load(CHROMIUM_SIMULCAST_OFFER);
const gathered = load(CHROMIUM_GATHERED_OFFER);
const werift = load(WERIFT_OFFER);
const hand = load(HANDWRITTEN_OFFER);

t.test('origin, groups and mids (RFC 8866 §5.2, RFC 5888, RFC 8843)', async (t) => {
  t.same(originOf(chrome), {
    username: '-',
    sessionId: '5933496494543910783',
    sessionVersion: '2',
    netType: 'IN',
    addressType: 'IP4',
    address: '127.0.0.1',
  });
  t.same(bundleGroupsOf(chrome), [['0', '1', '2']]);
  t.same(groupsOf(hand), [
    { semantics: 'BUNDLE', mids: ['a', 'v'] },
    { semantics: 'LS', mids: ['a', 'v'] },
  ]);
  t.same(bundleGroupsOf(hand), [['a', 'v']]);
  t.same(werift.media.map(midOf), ['0', '1', '2']);
  t.equal(mediaByMid(hand, 'v')?.kind, 'video');
  t.equal(mediaByMid(hand, 'zz'), undefined);
});

t.test('ICE parameters, candidates, ice-lite (RFC 8839)', async (t) => {
  const audio = chrome.media[0]!;
  t.same(iceParametersOf(audio.lines, chrome.session), {
    ufrag: 'nQjH',
    pwd: 'xq7pNsN4sJei3TE3RGj6xJzW',
    options: ['trickle'],
    lite: false,
  });
  t.same(
    iceParametersOf(hand.media[0]!.lines, hand.session),
    {
      ufrag: 'sessUfrag',
      pwd: 'sessionPasswordOf22chars',
      options: ['trickle', 'renomination'],
      lite: true,
    },
    'session-level values are the fallback',
  );
  t.same(candidatesOf(gathered.media[0]!.lines).length, 4);
  t.match(candidatesOf(gathered.media[0]!.lines)[0], /^\d+ 1 udp \d+ \S+ \d+ typ host/);
  t.equal(endOfCandidates(hand.media[0]!.lines), true);
  t.equal(endOfCandidates(chrome.media[0]!.lines), false);
});

t.test('fingerprints and setup (RFC 8122, RFC 4145)', async (t) => {
  t.same(fingerprintsOf(werift.media[0]!.lines, werift.session), [
    {
      algorithm: 'sha-256',
      value:
        '28:A3:62:C4:11:36:32:A0:7F:6E:E7:3C:CC:E8:9D:4C:96:8B:96:86:57:5C:05:26:FE:45:BA:3B:9A:3C:0C:C4',
    },
  ]);
  t.same(
    fingerprintsOf(hand.media[1]!.lines, hand.session),
    [
      { algorithm: 'sha-256', value: 'AB:CD:EF:01' },
      { algorithm: 'sha-1', value: '01:02:03' },
    ],
    'several fingerprints, from the session',
  );
  t.equal(setupOf(chrome.media[0]!.lines, chrome.session), 'actpass');
  t.equal(setupOf(hand.media[0]!.lines, hand.session), 'actpass', 'session fallback');
  t.equal(setupOf(hand.media[1]!.lines, hand.session), 'active', 'media overrides session');
  t.equal(setupOf([{ type: 'a', value: 'setup:bogus' }]), undefined);
});

t.test('direction, rtcp-mux, rtcp-rsize, msid (RFC 8866 §6.7, RFC 8830)', async (t) => {
  t.same(
    chrome.media.map((m) => directionOf(m, chrome.session)),
    ['sendrecv', 'sendonly', 'sendrecv'],
  );
  t.equal(directionOf(hand.media[0]!, hand.session), 'sendonly', 'session-level direction');
  t.equal(directionOf(hand.media[1]!, hand.session), 'recvonly');
  t.same(
    ['sendonly', 'recvonly', 'sendrecv', 'inactive'].map((d) => reverseDirection(d as 'sendonly')),
    ['recvonly', 'sendonly', 'sendrecv', 'inactive'],
  );
  t.equal(rtcpMux(chrome.media[0]!.lines), true);
  t.equal(rtcpRsize(chrome.media[0]!.lines), true);
  t.equal(rtcpRsize(werift.media[0]!.lines), false);
  t.same(msidsOf(chrome.media[0]!), [
    { streamId: '-', trackId: 'e955e33a-6c3c-4d32-b3a2-a41ff709aed1' },
  ]);
  t.same(msidsOf(hand.media[0]!), [
    { streamId: 'stream1', trackId: 'track1' },
    { streamId: 'stream2', trackId: 'track1' },
  ]);
  const copy = load(HANDWRITTEN_OFFER).media[1]!;
  setDirection(copy, 'inactive');
  t.equal(directionOf(copy), 'inactive');
  t.equal(attributeValues(copy.lines, 'inactive').length, 1);
  t.equal(
    copy.lines.findIndex((l) => l.value === 'inactive'),
    hand.media[1]!.lines.findIndex((l) => l.value === 'recvonly'),
    'in place of the old one',
  );
});

t.test('rtpmap, fmtp, rtcp-fb (RFC 8866 §6.6/§6.15, RFC 4585)', async (t) => {
  const video = chrome.media[1]!;
  const maps = rtpmapsOf(video.lines);
  t.equal(maps.length, video.formats.length, 'one rtpmap per format');
  t.same(maps[0], { payloadType: 96, name: 'VP8', clockRate: 90000 });
  t.same(rtpmapsOf(chrome.media[0]!.lines)[0], {
    payloadType: 111,
    name: 'opus',
    clockRate: 48000,
    channels: 2,
  });
  const fmtp = fmtpsOf(video.lines).find((f) => f.payloadType === 102);
  t.equal(
    fmtp?.parameters,
    'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  );
  t.same(
    [...parseFmtpParameters('minptime=10; useinbandfec=1;stereo;Profile-ID=2')],
    [
      ['minptime', '10'],
      ['useinbandfec', '1'],
      ['stereo', ''],
      ['profile-id', '2'],
    ],
  );
  const fb = rtcpFeedbackOf(video.lines).filter((f) => f.payloadType === 96);
  t.same(fb, [
    { payloadType: 96, type: 'goog-remb' },
    { payloadType: 96, type: 'transport-cc' },
    { payloadType: 96, type: 'ccm', parameter: 'fir' },
    { payloadType: 96, type: 'nack' },
    { payloadType: 96, type: 'nack', parameter: 'pli' },
  ]);
  t.same(rtcpFeedbackOf(hand.media[1]!.lines)[0], { payloadType: '*', type: 'nack' });
  t.equal(formatRtpmap(maps[0]!), '96 VP8/90000');
  t.equal(formatRtcpFeedback(fb[2]!), '96 ccm fir');
});

t.test('extmap (RFC 8285 §5)', async (t) => {
  const ext = extmapsOf(chrome.media[1]!.lines);
  t.same(ext[0], { id: 14, uri: 'urn:ietf:params:rtp-hdrext:toffset' });
  t.ok(ext.some((e) => e.id === 10 && e.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'));
  const withDir = extmapsOf(hand.media[0]!.lines)[0]!;
  t.same(withDir, {
    id: 1,
    direction: 'sendonly',
    uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    attributes: 'vad=on',
  });
  t.equal(formatExtmap(withDir), '1/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on');
  const bad = [
    'extmap:15 urn:x',
    'extmap:0 urn:x',
    'extmap:1/sideways urn:x',
    'extmap:1',
    'extmap:x urn:x',
  ];
  t.same(extmapsOf(bad.map((value) => ({ type: 'a', value }))), [], 'malformed ones are skipped');
});

t.test('ssrc and ssrc-group FID/SIM (RFC 5576, RFC 4588)', async (t) => {
  const video = gathered.media[1]!;
  t.same(ssrcGroupsOf(video.lines), [{ semantics: 'FID', ssrcs: [3411263698, 1409359204] }]);
  t.same(ssrcsOf(video.lines)[0], {
    ssrc: 3411263698,
    attribute: 'cname',
    value: 'Hz4JwfMbrb5kSv0z',
  });
  t.same(ssrcGroupsOf(hand.media[1]!.lines), [
    { semantics: 'SIM', ssrcs: [1, 2, 3] },
    { semantics: 'FID', ssrcs: [1, 4] },
  ]);
  const handSsrcs = ssrcsOf(hand.media[1]!.lines);
  t.equal(handSsrcs.length, 3, '`a=ssrc:2` without an attribute is skipped');
  t.equal(formatSsrc(handSsrcs[1]!), '1 msid:stream1 track2');
  t.equal(formatSsrcGroup({ semantics: 'SIM', ssrcs: [1, 2, 3] }), 'SIM 1 2 3');
  t.same(ssrcsOf([{ type: 'a', value: 'ssrc:4294967296 cname:x' }]), [], 'beyond 32 bits');
});

t.test('rejected sections, SCTP, bandwidth (RFC 8829, RFC 8841, RFC 3890)', async (t) => {
  t.same(hand.media.map(isRejected), [false, false, true, false]);
  const bundleOnly = load(
    'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=bundle-only\r\n',
  );
  t.equal(isRejected(bundleOnly.media[0]!), false, 'bundle-only with port 0 is live');
  t.equal(sctpPortOf(chrome.media[2]!), 5000);
  t.equal(maxMessageSizeOf(chrome.media[2]!), 262144);
  t.equal(maxMessageSizeOf(werift.media[2]!), 65536);
  t.equal(sctpPortOf(chrome.media[0]!), undefined);
  t.same(bandwidthsOf(hand.session), [{ type: 'AS', value: 2000 }]);
  t.equal(bandwidthOf(hand.media[0]!.lines, 'TIAS'), 64000);
  t.equal(bandwidthOf(hand.media[1]!.lines, 'AS'), 1500);
  t.equal(bandwidthOf(hand.media[1]!.lines, 'TIAS'), undefined);
});

t.test('edits through the generic helpers serialize as expected', async (t) => {
  const d = load(CHROMIUM_SIMULCAST_OFFER);
  const video = d.media[1]!;
  t.equal(removeAttributes(video.lines, 'rid'), 3);
  t.equal(removeAttributes(video.lines, 'simulcast'), 1);
  addAttribute(video.lines, 'x-rtcd');
  addAttribute(video.lines, 'x-rtcd-v', 'one two');
  const text = serialize(d);
  t.notMatch(text, /a=rid:/);
  t.ok(
    text.includes('a=rtpmap:120 ulpfec/90000\r\na=x-rtcd\r\na=x-rtcd-v:one two\r\nm=application'),
  );
  t.equal(
    text.length,
    CHROMIUM_SIMULCAST_OFFER.length -
      'a=rid:q send\r\n'.length * 3 -
      'a=simulcast:send q;h;f\r\n'.length +
      'a=x-rtcd\r\na=x-rtcd-v:one two\r\n'.length,
  );
});
