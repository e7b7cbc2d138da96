/**
 * The codec model: rtpmap + fmtp + rtcp-fb joined per payload type, RTX folded by `apt=`
 * (RFC 4588 §8.6), and matching against capabilities (RFC 3264 §6.1, RFC 6184 §8.2.2 for
 * H.264, VP9 profile-id, AV1 profile).
 */
import t from 'tap';
import {
  type Codec,
  codecMatches,
  codecsOf,
  DEFAULT_AUDIO_CODECS,
  DEFAULT_VIDEO_CODECS,
  extensionIdMap,
  extmapsOf,
  h264Profile,
  matchCodecs,
  parse,
  payloadTypeMap,
  type SessionDescription,
} from '../../lib/sdp/index.js';
import {
  CHROMIUM_SIMULCAST_OFFER,
  HANDWRITTEN_OFFER,
  WERIFT_OFFER,
} from '../helpers/sdp-captures.js';

function load(text: string): SessionDescription {
  const r = parse(text);
  if (!r.ok) throw new Error('parse failed');
  return r.value;
}
const chrome = load(CHROMIUM_SIMULCAST_OFFER);

t.test('Chromium audio: opus first, static PCMU/PCMA, red kept as a codec', async (t) => {
  const codecs = codecsOf(chrome.media[0]!);
  t.same(
    codecs.map(
      (c) => `${c.payloadType} ${c.name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`,
    ),
    [
      '111 opus/48000/2',
      '63 red/48000/2',
      '9 G722/8000',
      '0 PCMU/8000',
      '8 PCMA/8000',
      '13 CN/8000',
      '110 telephone-event/48000',
      '126 telephone-event/8000',
    ],
  );
  const opus = codecs[0]!;
  t.equal(opus.fmtp, 'minptime=10;useinbandfec=1');
  t.equal(opus.parameters.get('useinbandfec'), '1');
  t.same(opus.rtcpFb, [{ type: 'transport-cc' }]);
  t.equal(opus.rtxPayloadType, undefined);
});

t.test('Chromium video: RTX folded into the codec it repairs', async (t) => {
  const codecs = codecsOf(chrome.media[1]!);
  t.notOk(
    codecs.some((c) => c.name === 'rtx'),
    'no rtx entries of their own',
  );
  const byPt = new Map(codecs.map((c) => [c.payloadType, c]));
  t.equal(byPt.get(96)?.rtxPayloadType, 97);
  t.equal(byPt.get(102)?.rtxPayloadType, 103);
  t.equal(byPt.get(45)?.name, 'AV1');
  t.equal(byPt.get(118)?.rtxPayloadType, 119, 'red has its rtx too');
  t.equal(byPt.get(120)?.rtxPayloadType, undefined);
  t.equal(byPt.get(96)?.rtcpFb.length, 5);
});

t.test('a static payload type without rtpmap, rtcp-fb:* and rtx-time', async (t) => {
  const hand = load(HANDWRITTEN_OFFER);
  const [vp8, h264] = codecsOf(hand.media[1]!);
  t.equal(vp8?.rtxPayloadType, 97);
  t.equal(vp8?.rtxTime, 200);
  t.same(vp8?.rtcpFb, [
    { type: 'nack' },
    { type: 'nack', parameter: 'pli' },
    { type: 'ccm', parameter: 'fir' },
  ]);
  t.same(h264?.rtcpFb, [{ type: 'nack' }], '* applies to every format');
  t.same(
    codecsOf(hand.media[2]!).map((c) => c.name),
    ['PCMU'],
  );
  const werift = load(WERIFT_OFFER);
  t.same(
    codecsOf(werift.media[0]!).map((c) => c.name),
    ['OPUS', 'PCMU'],
  );
});

t.test(
  'an rtx whose apt names nothing is dropped; formats without rtpmap are skipped',
  async (t) => {
    const d = load(
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVPF 96 97 99 100\r\n' +
        'a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=98\r\na=rtpmap:99 rtx/90000\r\n',
    );
    t.same(
      codecsOf(d.media[0]!).map((c) => [c.payloadType, c.rtxPayloadType]),
      [[96, undefined]],
    );
  },
);

t.test('H.264 profiles from profile-level-id (RFC 6184 §8.1)', async (t) => {
  t.equal(h264Profile('42e01f'), 'constrained-baseline');
  t.equal(h264Profile('42001f'), 'baseline');
  t.equal(h264Profile('4d001f'), 'main');
  t.equal(h264Profile('4d801f'), 'constrained-baseline');
  t.equal(h264Profile('640c1f'), 'constrained-high');
  t.equal(h264Profile('64001f'), 'high');
  t.equal(h264Profile(undefined), 'baseline', 'default 420010');
  t.equal(h264Profile('42e0'), undefined);
});

t.test('matching the Chromium offer against the default capabilities', async (t) => {
  const video = matchCodecs(codecsOf(chrome.media[1]!), DEFAULT_VIDEO_CODECS);
  t.same(
    video.map((c) => [c.payloadType, c.name, c.fmtp, c.rtxPayloadType]),
    [
      [96, 'VP8', '', 97],
      [108, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f', 109],
      [45, 'AV1', 'level-idx=5;profile=0;tier=0', 46],
      [98, 'VP9', 'profile-id=0', 99],
    ],
    'VP9 profile 2, H.264 baseline/main and packetization-mode 0, red and ulpfec are passed over',
  );
  const audio = matchCodecs(codecsOf(chrome.media[0]!), DEFAULT_AUDIO_CODECS);
  t.same(
    audio.map((c) => c.payloadType),
    [111],
  );
});

t.test('feedback is cut to the capability; rtx only when asked', async (t) => {
  const offered = codecsOf(chrome.media[1]!);
  const [vp8] = matchCodecs(offered, [
    {
      name: 'vp8',
      clockRate: 90000,
      rtcpFb: [{ type: 'nack', parameter: 'pli' }, { type: 'nack' }],
    },
  ]);
  t.same(vp8?.rtcpFb, [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }], 'offer order kept');
  t.equal(vp8?.rtxPayloadType, undefined);
  t.equal(offered[0]!.rtxPayloadType, 97, 'the offered codec is not modified');
});

t.test('codecMatches: channels, clock rate and parameters', async (t) => {
  const codec = (name: string, fmtp: string, channels?: number): Codec => ({
    payloadType: 100,
    name,
    clockRate: name === 'opus' ? 48000 : 90000,
    fmtp,
    parameters: new Map(
      fmtp
        .split(';')
        .filter(Boolean)
        .map((p) => p.split('=') as [string, string]),
    ),
    rtcpFb: [],
    ...(channels === undefined ? {} : { channels }),
  });
  t.ok(codecMatches(codec('opus', '', 2), DEFAULT_AUDIO_CODECS[0]!));
  t.notOk(codecMatches(codec('opus', ''), DEFAULT_AUDIO_CODECS[0]!), 'mono opus is not RFC 7587');
  const vp9 = DEFAULT_VIDEO_CODECS.find((c) => c.name === 'VP9')!;
  t.ok(codecMatches(codec('VP9', ''), vp9), 'absent profile-id is 0');
  t.notOk(codecMatches(codec('VP9', 'profile-id=2'), vp9));
  const h264 = DEFAULT_VIDEO_CODECS.find((c) => c.name === 'H264')!;
  t.ok(
    codecMatches(codec('h264', 'profile-level-id=42e034;packetization-mode=1'), h264),
    'level ignored',
  );
  t.notOk(codecMatches(codec('H264', 'profile-level-id=42e01f'), h264), 'mode 0 by default');
  t.notOk(codecMatches(codec('H264', 'profile-level-id=zzzzzz;packetization-mode=1'), h264));
  const av1 = DEFAULT_VIDEO_CODECS.find((c) => c.name === 'AV1')!;
  t.notOk(codecMatches(codec('AV1', 'profile=1'), av1));
  t.notOk(codecMatches({ ...codec('VP8', ''), clockRate: 8000 }, DEFAULT_VIDEO_CODECS[0]!));
});

t.test('payload-type and extension-id maps between two legs', async (t) => {
  const publisher = matchCodecs(codecsOf(chrome.media[1]!), DEFAULT_VIDEO_CODECS);
  const werift = load(WERIFT_OFFER);
  const subscriber = codecsOf(werift.media[1]!);
  t.same([...payloadTypeMap(publisher, subscriber)], [[96, 98]], 'VP8 only; no rtx on their side');
  const withRtx = codecsOf(load(HANDWRITTEN_OFFER).media[1]!);
  t.same(
    [...payloadTypeMap(publisher, withRtx)],
    [
      [96, 96],
      [97, 97],
      [108, 98],
    ],
    'H.264 42e01f pm1 ↔ 98, RTX paired',
  );
  t.same(
    [...payloadTypeMap(withRtx, publisher)],
    [
      [96, 96],
      [97, 97],
      [98, 108],
    ],
  );
  t.same(
    [
      ...extensionIdMap(extmapsOf(chrome.media[1]!.lines), [
        { id: 1, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' },
        { id: 7, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' },
      ]),
    ],
    [
      [2, 7],
      [4, 1],
    ],
  );
});
