/**
 * Captures the DTLS ClientHello of the real Chromium (Debian's, driven by playwright-core):
 * the page offers a data channel; we answer as an ICE-lite, DTLS-passive peer on a bare UDP
 * socket on 127.0.0.1, answer its STUN connectivity checks with lib/stun, and collect the
 * DTLS datagrams it then sends until the ClientHello reassembles. Nothing is answered at the
 * DTLS layer, so Chromium just retransmits until the page is closed.
 */
import dgram from 'node:dgram';
import type { Browser } from 'playwright-core';
import { ContentType, HandshakeType } from '../../lib/dtls/constants.js';
import { readHandshakeFragments } from '../../lib/dtls/handshake.js';
import { HandshakeReassembler } from '../../lib/dtls/reassembler.js';
import { isDtlsDatagram, readRecords } from '../../lib/dtls/record.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { shortTermKey } from '../../lib/stun/integrity.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import { servePage } from './browser.js';

const ICE_UFRAG = 'rtcdwire';
const ICE_PWD = 'rtcd-dtls-wire-password-0123';
/** Any well-formed fingerprint: the handshake never gets far enough to compare it. */
const FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  (i * 7).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

function answerSdp(offer: string, port: number): string {
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
    'a=setup:passive',
    'a=sctp-port:5000',
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

/** The DTLS datagrams that carry Chromium's first complete ClientHello. */
export async function captureChromiumClientHello(
  browser: Browser,
  timeoutMs = 20_000,
): Promise<Buffer[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  const key = shortTermKey(ICE_PWD);
  const page = await servePage();
  const tab = await browser.newPage();
  let timer: NodeJS.Timeout | undefined;
  try {
    const captured = new Promise<Buffer[]>((resolve) => {
      const datagrams: Buffer[] = [];
      const r = new HandshakeReassembler();
      sock.on('message', (d, rinfo) => {
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
          sock.send(res, rinfo.port, rinfo.address);
          return;
        }
        if (d.length === 0 || !isDtlsDatagram(d[0]!)) return;
        datagrams.push(Buffer.from(d));
        for (const rec of readRecords(d)) {
          if (rec.type !== ContentType.handshake) continue;
          for (const f of readHandshakeFragments(rec.fragment) ?? []) r.add(f);
        }
        const m = r.next();
        if (m?.msgType === HandshakeType.clientHello) resolve(datagrams);
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
    const answer = JSON.stringify(answerSdp(offer, port));
    await tab.evaluate(`window.pc.setRemoteDescription({ type: 'answer', sdp: ${answer} })`);
    return await Promise.race([
      captured,
      new Promise<Buffer[]>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no ClientHello from Chromium')), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await tab.close();
    await page.close();
    sock.close();
  }
}
