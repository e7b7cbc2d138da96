/**
 * RFC 8829 (JSEP) against libwebrtc: Chromium's fresh offers round-trip byte for byte, and the
 * answers `createAnswer()` builds are accepted by Chromium's `setRemoteDescription` with the
 * negotiated result we meant (directions, simulcast layers kept, DTLS role, data channel,
 * remote tracks with our msid).
 */
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import {
  type AnswerOptions,
  createAnswer,
  parse,
  type SessionDescription,
  serialize,
} from '../../lib/sdp/index.js';
import { launchChromium, servePage } from '../helpers/browser.js';

const browser = await launchChromium();
const site = await servePage();
t.teardown(async () => {
  await browser.close();
  await site.close();
});

const FINGERPRINT = {
  algorithm: 'sha-256',
  value: Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase()).join(':'),
};
const BASE: AnswerOptions = {
  ice: { ufrag: 'rtcdUfrag', pwd: 'rtcdPasswordThatIsLongEnough' },
  fingerprints: [FINGERPRINT],
  candidates: ['1 1 udp 2130706431 127.0.0.1 40000 typ host'],
  sessionId: '1234567890',
};

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(site.url);
  return page;
}

interface Negotiated {
  error?: string;
  directions: (string | null)[];
  mids: (string | null)[];
  encodings: number[];
  sctp: boolean;
  tracks: string[];
  dtlsRole?: string;
}

/**
 * Runs `setupScript` in the page with `pc` in scope (a fresh RTCPeerConnection), answers its
 * offer with `options`, applies the answer and reports what Chromium negotiated.
 */
async function negotiate(
  t: Test,
  page: Page,
  setupScript: string,
  options: AnswerOptions,
): Promise<{ offer: string; answer: SessionDescription; result: Negotiated }> {
  const offer = await page.evaluate<string>(`(async () => {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    window.tracks = [];
    pc.ontrack = (e) => window.tracks.push(e.track.kind + ':' + (e.streams[0] ? e.streams[0].id : '-'));
    ${setupScript}
    const o = await pc.createOffer();
    await pc.setLocalDescription(o);
    return o.sdp;
  })()`);
  const parsed = parse(offer);
  if (!parsed.ok) throw new Error(`offer refused: ${JSON.stringify(parsed.error)}`);
  t.equal(serialize(parsed.value), offer, 'the fresh offer round-trips byte for byte');
  const built = createAnswer(parsed.value, options);
  if (!built.ok) throw new Error(`answer refused: ${JSON.stringify(built.error)}`);
  const result = await page.evaluate<Negotiated>(`(async () => {
    const pc = window.pc;
    let error;
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(serialize(built.value))} });
    } catch (e) {
      error = String(e);
    }
    const ts = pc.getTransceivers();
    let dtlsRole;
    for (let i = 0; i < 50 && !dtlsRole; i++) {
      const stats = await pc.getStats();
      stats.forEach((s) => { if (s.type === 'transport' && s.dtlsRole !== 'unknown') dtlsRole = s.dtlsRole; });
      if (!dtlsRole) await new Promise((r) => setTimeout(r, 20));
    }
    return {
      error,
      directions: ts.map((x) => x.currentDirection),
      mids: ts.map((x) => x.mid),
      encodings: ts.map((x) => x.sender.getParameters().encodings.length),
      sctp: pc.sctp !== null,
      tracks: window.tracks,
      dtlsRole,
    };
  })()`);
  return { offer, answer: built.value, result };
}

t.test('a simulcast publisher: audio, video with three rids, a data channel', async (t) => {
  const page = await openPage();
  const { answer, result } = await negotiate(
    t,
    page,
    `pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendonly', sendEncodings: [
      { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }] });
    pc.createDataChannel('chat');`,
    BASE,
  );
  t.equal(result.error, undefined, 'setRemoteDescription accepted the answer');
  t.same(result.mids, ['0', '1']);
  t.same(result.directions, ['sendrecv', 'sendonly']);
  t.same(result.encodings, [1, 3], 'all three simulcast layers survive the answer');
  t.ok(result.sctp, 'the data channel section was accepted');
  t.equal(result.dtlsRole, 'client', 'we answered passive, so Chromium is the DTLS client');
  const text = serialize(answer);
  t.match(text, /a=simulcast:recv q;h;f\r\n/);
  t.match(text, /a=rid:q recv\r\n/);
  t.match(text, /a=ice-lite\r\n/);
  t.match(text, /a=group:BUNDLE 0 1 2\r\n/);
  await page.close();
});

t.test('we can take the DTLS client role (a=setup:active)', async (t) => {
  const page = await openPage();
  const { result } = await negotiate(t, page, `pc.addTransceiver('audio');`, {
    ...BASE,
    setup: 'active',
  });
  t.equal(result.error, undefined);
  t.equal(result.dtlsRole, 'server');
  await page.close();
});

t.test('a subscriber: we send on recvonly sections, Chromium sees our msid', async (t) => {
  const page = await openPage();
  const { result } = await negotiate(
    t,
    page,
    `pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });`,
    {
      ...BASE,
      media: (m) => ({
        msid: { streamId: 'alice', trackId: `${m.kind}-track` },
        ssrcs: [{ ssrc: m.kind === 'audio' ? 1111 : 2222, attribute: 'cname', value: 'rtcd' }],
      }),
    },
  );
  t.equal(result.error, undefined);
  t.same(result.directions, ['recvonly', 'recvonly']);
  t.same(result.tracks.sort(), ['audio:alice', 'video:alice']);
  await page.close();
});

t.test('a section we reject is stopped by Chromium, the rest stays bundled', async (t) => {
  const page = await openPage();
  const { answer, result } = await negotiate(
    t,
    page,
    `pc.addTransceiver('audio'); pc.addTransceiver('video');`,
    { ...BASE, media: (m) => ({ reject: m.kind === 'audio' }) },
  );
  t.equal(result.error, undefined);
  t.equal(answer.media[0]!.port, 0);
  t.same(result.mids, ['1'], 'the rejected transceiver is stopped and removed (JSEP §4.1.8)');
  t.same(result.directions, ['sendrecv']);
  t.match(serialize(answer), /a=group:BUNDLE 1\r\n/);
  await page.close();
});

t.test('H.264-only capabilities choose packetization-mode 1 constrained baseline', async (t) => {
  const page = await openPage();
  const { answer, result } = await negotiate(t, page, `pc.addTransceiver('video');`, {
    ...BASE,
    videoCodecs: [
      {
        name: 'H264',
        clockRate: 90000,
        parameters: { 'packetization-mode': '1', 'profile-level-id': '42e01f' },
        rtcpFb: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        rtx: true,
      },
    ],
  });
  t.equal(result.error, undefined);
  const text = serialize(answer);
  t.match(
    text,
    /a=fmtp:\d+ level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f/,
  );
  t.notMatch(text, /packetization-mode=0/);
  t.notMatch(text, /profile-level-id=42001f/);
  t.match(text, /a=rtpmap:\d+ rtx\/90000/);
  await page.close();
});

t.test('renegotiation: a second offer with a new video section is answered', async (t) => {
  const page = await openPage();
  const first = await negotiate(t, page, `pc.addTransceiver('audio');`, BASE);
  t.equal(first.result.error, undefined);
  const reoffer = await page.evaluate<string>(`(async () => {
    window.pc.addTransceiver('video', { direction: 'recvonly' });
    const o = await window.pc.createOffer();
    await window.pc.setLocalDescription(o);
    return o.sdp;
  })()`);
  const parsed = parse(reoffer);
  if (!parsed.ok) throw new Error('re-offer refused');
  t.equal(serialize(parsed.value), reoffer);
  const built = createAnswer(parsed.value, { ...BASE, sessionVersion: 2 });
  if (!built.ok) throw new Error(`answer refused: ${built.error.code}`);
  t.match(serialize(built.value), /^v=0\r\no=rtcd 1234567890 2 /);
  const result = await page.evaluate<{ error?: string; directions: string[] }>(`(async () => {
    let error;
    try {
      await window.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(serialize(built.value))} });
    } catch (e) {
      error = String(e);
    }
    return { error, directions: window.pc.getTransceivers().map((x) => x.currentDirection) };
  })()`);
  t.equal(result.error, undefined, 'the updated answer is accepted');
  t.same(result.directions, ['sendrecv', 'recvonly']);
  await page.close();
});
