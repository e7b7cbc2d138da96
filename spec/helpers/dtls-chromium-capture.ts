/**
 * Captures DTLS flights of the real Chromium (Debian's, driven by playwright-core). The page
 * offers a data channel; we answer as an ICE-lite peer on a bare UDP socket on 127.0.0.1,
 * answer its STUN connectivity checks with lib/stun, and then either
 * - (setup:passive) collect the ClientHello Chromium sends, or
 * - (setup:active) send our own ClientHello and collect Chromium's server flight up to
 *   ServerHelloDone (answering a HelloVerifyRequest if one comes).
 * Nothing more is answered at the DTLS layer; the page is closed when the capture is done.
 * Needs `--allow-loopback-in-peer-connection` so that Chromium's ICE uses 127.0.0.1.
 */
import dgram from 'node:dgram';
import type { Browser } from 'playwright-core';
import { HandshakeType } from '../../lib/dtls/constants.js';
import type { HandshakeMessage } from '../../lib/dtls/handshake.js';
import { encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { decodeHelloVerifyRequest } from '../../lib/dtls/messages/hello-verify-request.js';
import { isDtlsDatagram } from '../../lib/dtls/record.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { shortTermKey } from '../../lib/stun/integrity.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import { servePage } from './browser.js';
import { handshakeMessages, handshakeRecord, webrtcClientHello } from './dtls-captures.js';

export const CHROMIUM_LOOPBACK_ARG = '--allow-loopback-in-peer-connection';

const ICE_UFRAG = 'rtcdwire';
const ICE_PWD = 'rtcd-dtls-wire-password-0123';
/** Any well-formed fingerprint: the handshake never gets far enough to compare it. */
const FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

function answerSdp(offer: string, port: number, setup: 'active' | 'passive'): string {
  const mid = /a=mid:(\S+)/.exec(offer)?.[1] ?? '0';
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'a=ice-lite',
    `m=application ${port} UDP/DTLS/SCTP webrtc-datachannel`,
    'c=IN IP4 127.0.0.1',
    `a=mid:${mid}`,
    `a=ice-ufrag:${ICE_UFRAG}`,
    `a=ice-pwd:${ICE_PWD}`,
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    `a=setup:${setup}`,
    'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

interface Peer {
  send(datagram: Buffer): void;
}

/**
 * Runs one capture: `onDtls` sees every DTLS datagram from Chromium and returns the result
 * when it has what it wants; `onConnected` runs once after the first connectivity check
 * was answered.
 */
async function withChromium<T>(
  browser: Browser,
  setup: 'active' | 'passive',
  onDtls: (datagram: Buffer, peer: Peer) => T | undefined,
  onChecked: (peer: Peer) => void,
  timeoutMs: number,
): Promise<T> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  const key = shortTermKey(ICE_PWD);
  const page = await servePage();
  const tab = await browser.newPage();
  let timer: NodeJS.Timeout | undefined;
  try {
    const captured = new Promise<T>((resolve) => {
      let checked = false;
      sock.on('message', (d, rinfo) => {
        const peer: Peer = { send: (b) => sock.send(b, rinfo.port, rinfo.address) };
        const stun = decodeStunMessage(d);
        if (stun.ok) {
          const m = stun.message;
          if (m.messageClass !== StunClass.request || m.method !== StunMethod.binding) return;
          const res = StunMessageBuilder.responseTo(m, StunClass.success)
            .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, {
              family: 4,
              address: rinfo.address,
              port: rinfo.port,
            })
            .addMessageIntegrity(key)
            .addFingerprint()
            .toBuffer();
          peer.send(res);
          if (!checked) {
            checked = true;
            onChecked(peer);
          }
          return;
        }
        if (d.length === 0 || !isDtlsDatagram(d[0]!)) return;
        const done = onDtls(Buffer.from(d), peer);
        if (done !== undefined) resolve(done);
      });
    });
    await tab.goto(page.url);
    // Strings, not functions: the specs compile without DOM types.
    const offer = await tab.evaluate<string>(`(async () => {
      window.pc = new RTCPeerConnection();
      window.pc.createDataChannel('capture');
      await window.pc.setLocalDescription(await window.pc.createOffer());
      return window.pc.localDescription.sdp;
    })()`);
    const answer = JSON.stringify(answerSdp(offer, port, setup));
    await tab.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${answer} })`);
    return await Promise.race([
      captured,
      new Promise<T>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no DTLS ${setup} capture from Chromium`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await tab.close();
    await page.close();
    sock.close();
  }
}

/** The DTLS datagrams that carry Chromium's first complete ClientHello. */
export function captureChromiumClientHello(
  browser: Browser,
  timeoutMs = 20_000,
): Promise<Buffer[]> {
  const datagrams: Buffer[] = [];
  return withChromium(
    browser,
    'passive',
    (d) => {
      datagrams.push(d);
      const m = handshakeMessages(datagrams)[0];
      return m?.msgType === HandshakeType.clientHello ? datagrams : undefined;
    },
    () => {},
    timeoutMs,
  );
}

/**
 * Chromium as the DTLS server answering `webrtcClientHello()`: the datagrams of its flight up
 * to ServerHelloDone (after a HelloVerifyRequest round, if it asks for one), and the
 * messages in them. Our ClientHello is repeated every 250 ms until Chromium answers, since
 * it may arrive before Chromium considers the ICE pair writable.
 */
export async function captureChromiumServerFlight(
  browser: Browser,
  timeoutMs = 20_000,
): Promise<{ datagrams: Buffer[]; messages: HandshakeMessage[]; helloVerify: boolean }> {
  const datagrams: Buffer[] = [];
  let helloSeq = 0;
  let recordSeq = 0;
  let answered = false;
  let repeat: NodeJS.Timeout | undefined;
  const sendHello = (peer: Peer, cookie: Buffer = Buffer.alloc(0)): void => {
    const body = encodeClientHello(webrtcClientHello(cookie));
    peer.send(handshakeRecord(HandshakeType.clientHello, helloSeq, body, recordSeq++));
  };
  try {
    return await withChromium(
      browser,
      'active',
      (d, peer) => {
        answered = true;
        const first = handshakeMessages([d])[0];
        if (helloSeq === 0 && first?.msgType === HandshakeType.helloVerifyRequest) {
          const hvr = decodeHelloVerifyRequest(first.body);
          helloSeq = 1;
          sendHello(peer, hvr?.cookie);
          return undefined;
        }
        datagrams.push(d);
        const messages = handshakeMessages(datagrams, helloSeq);
        const last = messages[messages.length - 1];
        if (last?.msgType !== HandshakeType.serverHelloDone) return undefined;
        return { datagrams, messages, helloVerify: helloSeq === 1 };
      },
      (peer) => {
        sendHello(peer);
        repeat = setInterval(() => {
          if (!answered) sendHello(peer);
        }, 250);
      },
      timeoutMs,
    );
  } finally {
    clearInterval(repeat);
  }
}
