/**
 * RFC 8829 §5.2 offers from the server, checked by libwebrtc: Chromium applies our offer as
 * remote, answers it (we parse that answer byte for byte), shows our tracks with our msid,
 * and takes a re-offer that adds a section and removes another.
 */
import type { Page } from 'playwright-core';
import t from 'tap';
import {
  type Codec,
  codecsOf,
  createOffer,
  directionOf,
  midOf,
  type OfferOptions,
  parse,
  parseFmtpParameters,
  serialize,
  setupOf,
} from '../../lib/sdp/index.js';
import { launchChromium, servePage } from '../helpers/browser.js';

const browser = await launchChromium();
const site = await servePage();
t.teardown(async () => {
  await browser.close();
  await site.close();
});

function codec(
  payloadType: number,
  name: string,
  clockRate: number,
  fmtp = '',
  rtx?: number,
): Codec {
  const c: Codec = {
    payloadType,
    name,
    clockRate,
    fmtp,
    parameters: parseFmtpParameters(fmtp),
    rtcpFb:
      clockRate === 90000
        ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }]
        : [{ type: 'transport-cc' }],
  };
  if (name === 'opus') c.channels = 2;
  if (rtx !== undefined) c.rtxPayloadType = rtx;
  return c;
}

const OPUS = codec(111, 'opus', 48000, 'minptime=10;useinbandfec=1');
const VP8 = codec(96, 'VP8', 90000, '', 97);
const H264 = codec(
  102,
  'H264',
  90000,
  'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  103,
);
const MID_EXT = { id: 4, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' };

const BASE: Omit<OfferOptions, 'media'> = {
  ice: { ufrag: 'sfuUfrag', pwd: 'sfuPasswordLongEnough1234' },
  fingerprints: [
    {
      algorithm: 'sha-256',
      value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':'),
    },
  ],
  candidates: ['1 1 udp 2130706431 127.0.0.1 40000 typ host'],
  sessionId: '4242',
};

async function applyOffer(
  page: Page,
  sdp: string,
): Promise<{ error?: string; answer: string; tracks: string[]; directions: string[] }> {
  return page.evaluate(`(async () => {
    if (!window.pc) {
      window.pc = new RTCPeerConnection();
      window.tracks = [];
      window.pc.ontrack = (e) => window.tracks.push(e.track.kind + ':' + e.track.id + ':' + (e.streams[0] ? e.streams[0].id : '-'));
    }
    const pc = window.pc;
    let error;
    let answer = '';
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(sdp)} });
      const a = await pc.createAnswer();
      await pc.setLocalDescription(a);
      answer = a.sdp;
    } catch (e) {
      error = String(e);
    }
    return {
      error,
      answer,
      tracks: window.tracks,
      directions: pc.getTransceivers().map((x) => x.currentDirection),
    };
  })()`);
}

t.test(
  'Chromium answers our subscriber offer: audio + video sendonly, a data channel',
  async (t) => {
    const page = await browser.newPage();
    await page.goto(site.url);
    const offer = createOffer({
      ...BASE,
      media: [
        {
          mid: 'a0',
          kind: 'audio',
          codecs: [OPUS],
          extensions: [MID_EXT],
          msid: { streamId: 'alice', trackId: 'alice-mic' },
          ssrcs: [{ ssrc: 1001, attribute: 'cname', value: 'sfu' }],
        },
        {
          mid: 'v0',
          kind: 'video',
          codecs: [VP8, H264],
          extensions: [MID_EXT],
          msid: { streamId: 'alice', trackId: 'alice-cam' },
          ssrcGroups: [{ semantics: 'FID', ssrcs: [2001, 2002] }],
          ssrcs: [
            { ssrc: 2001, attribute: 'cname', value: 'sfu' },
            { ssrc: 2002, attribute: 'cname', value: 'sfu' },
          ],
        },
        { mid: 'd', kind: 'application' },
      ],
    });
    const r = await applyOffer(page, serialize(offer));
    t.equal(r.error, undefined, 'setRemoteDescription(offer) and createAnswer succeeded');
    t.same(r.tracks.sort(), ['audio:alice-mic:alice', 'video:alice-cam:alice']);
    t.same(r.directions, ['recvonly', 'recvonly']);
    const answer = parse(r.answer);
    if (!answer.ok) throw new Error(`Chromium's answer refused: ${answer.error.code}`);
    t.equal(serialize(answer.value), r.answer, "Chromium's answer round-trips");
    t.same(answer.value.media.map(midOf), ['a0', 'v0', 'd']);
    t.same(
      answer.value.media.slice(0, 2).map((m) => directionOf(m)),
      ['recvonly', 'recvonly'],
    );
    t.equal(setupOf(answer.value.media[0]!.lines, answer.value.session), 'active');
    const video = codecsOf(answer.value.media[1]!);
    t.same(
      video.map((c) => [c.payloadType, c.name, c.rtxPayloadType]),
      [
        [96, 'VP8', 97],
        [102, 'H264', 103],
      ],
      'our payload types and RTX pairs accepted',
    );
    await page.close();
  },
);

t.test('a re-offer adds a section and removes one, mids and order kept', async (t) => {
  const page = await browser.newPage();
  await page.goto(site.url);
  const audio = {
    mid: '0',
    kind: 'audio' as const,
    codecs: [OPUS],
    msid: { streamId: 'bob', trackId: 'bob-mic' },
    ssrcs: [{ ssrc: 11, attribute: 'cname', value: 'sfu' }],
  };
  const first = await applyOffer(page, serialize(createOffer({ ...BASE, media: [audio] })));
  t.equal(first.error, undefined);
  const video = {
    mid: '1',
    kind: 'video' as const,
    codecs: [VP8],
    msid: { streamId: 'carol', trackId: 'carol-cam' },
    ssrcs: [{ ssrc: 21, attribute: 'cname', value: 'sfu' }],
  };
  const second = await applyOffer(
    page,
    serialize(
      createOffer({ ...BASE, sessionVersion: 2, media: [{ ...audio, rejected: true }, video] }),
    ),
  );
  t.equal(second.error, undefined, 'the re-offer is accepted');
  t.same(second.directions, ['recvonly'], 'the removed section is stopped');
  t.ok(second.tracks.includes('video:carol-cam:carol'));
  const answer = parse(second.answer);
  if (!answer.ok) throw new Error('answer refused');
  t.same(
    answer.value.media.map((m) => [midOf(m), m.port === 0]),
    [
      ['0', true],
      ['1', false],
    ],
  );
  await page.close();
});

t.test('misuse throws TypeError', async (t) => {
  t.throws(() => createOffer({ ...BASE, fingerprints: [], media: [] }), TypeError);
  t.throws(
    () =>
      createOffer({
        ...BASE,
        media: [
          { mid: 'x', kind: 'audio', codecs: [OPUS] },
          { mid: 'x', kind: 'audio', codecs: [OPUS] },
        ],
      }),
    TypeError,
  );
  t.throws(() => createOffer({ ...BASE, media: [{ mid: 'v', kind: 'video' }] }), TypeError);
  t.throws(() => createOffer({ ...BASE, media: [{ mid: 'a b', kind: 'application' }] }), TypeError);
});
