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
import type { Browser, Page } from 'playwright-core';
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
/** A well-formed fingerprint for captures that never get far enough to compare it. */
const FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

function answerSdp(
  offer: string,
  port: number,
  setup: 'active' | 'passive',
  fingerprint: string,
): string {
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
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${setup}`,
    'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

export interface ChromiumPeerOptions<T> {
  /** Our DTLS role seen from Chromium: 'passive' = we are the DTLS server. */
  setup: 'active' | 'passive';
  /** Our certificate fingerprint for the answer (sha-256). Default: a dummy one. */
  fingerprint?: string;
  /** Sees Chromium's offer (e.g. to read its a=fingerprint) before the answer is set. */
  onOffer?(sdp: string): void;
  /** Every DTLS datagram from Chromium; returns the result once it has what it wants. */
  onDtls(datagram: Buffer, peer: Peer): T | undefined;
  /** Runs once, after the first connectivity check was answered. */
  onChecked?(peer: Peer): void;
  /** Runs in the still-open tab once `onDtls` produced a result (evaluate page state). */
  finish?(tab: Page, result: T): Promise<void>;
  timeoutMs?: number;
}

export interface Peer {
  send(datagram: Buffer): void;
}

/**
 * One Chromium RTCPeerConnection (a data channel offer) whose ICE we answer as a lite peer on
 * a bare UDP socket on 127.0.0.1; the DTLS datagrams go to `onDtls`.
 */
export async function withChromium<T>(browser: Browser, o: ChromiumPeerOptions<T>): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 20_000;
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
            o.onChecked?.(peer);
          }
          return;
        }
        if (d.length === 0 || !isDtlsDatagram(d[0]!)) return;
        const done = o.onDtls(Buffer.from(d), peer);
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
    o.onOffer?.(offer);
    const answer = JSON.stringify(answerSdp(offer, port, o.setup, o.fingerprint ?? FINGERPRINT));
    await tab.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${answer} })`);
    const result = await Promise.race([
      captured,
      new Promise<T>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no DTLS result (${o.setup}) from Chromium`)),
          timeoutMs,
        );
      }),
    ]);
    await o.finish?.(tab, result);
    return result;
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
  return withChromium(browser, {
    setup: 'passive',
    onDtls: (d) => {
      datagrams.push(d);
      const m = handshakeMessages(datagrams)[0];
      return m?.msgType === HandshakeType.clientHello ? datagrams : undefined;
    },
    timeoutMs,
  });
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
    return await withChromium(browser, {
      setup: 'active',
      onDtls: (d, peer) => {
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
      onChecked: (peer) => {
        sendHello(peer);
        repeat = setInterval(() => {
          if (!answered) sendHello(peer);
        }, 250);
      },
      timeoutMs,
    });
  } finally {
    clearInterval(repeat);
  }
}
