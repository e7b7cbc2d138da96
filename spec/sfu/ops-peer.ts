/**
 * WHIP/WHEP clients for the SFU's bad-input, limits and metrics specs, built on the endpoint
 * specs' NodePeer (rtcd's own ICE check, DTLS and SRTP on a bare UDP socket): a hand-written
 * offer with the peer's credentials and fingerprint is POSTed, the answer read, and the peer
 * nominates and shakes hands like a browser would. It can also send every byte of bad input.
 */
import type { Test } from 'tap';
import type { SfuServerOptions } from '../../lib/sfu/sfu-server.js';
import type { Logger } from '../../lib/util/logger.js';
import { delay } from '../helpers/raw-stun.js';
import { type ListeningSfu, listenSfu } from '../helpers/sfu-fixture.js';
import { NodePeer, PEER_PWD, PEER_UFRAG, peerCertificate, rtpPacket } from '../webrtc/node-peer.js';

export const OPUS_PT = 111;
export const VP8_PT = 96;
export const RTX_PT = 97;

export interface OfferSection {
  kind: 'audio' | 'video';
  /** Sending SSRC (publishers). */
  ssrc?: number;
  /** Offer RTX (RFC 4588) for video, payload type 97. */
  rtx?: boolean;
}

/** An offer in our peer's name: `sendonly` (WHIP) or `recvonly` (WHEP) sections. */
export async function peerOffer(
  direction: 'sendonly' | 'recvonly',
  sections: readonly OfferSection[],
): Promise<string> {
  const fp = (await peerCertificate()).fingerprint('sha-256');
  const mids = sections.map((_, i) => String(i));
  const lines = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
  lines.push(`a=group:BUNDLE ${mids.join(' ')}`);
  sections.forEach((s, i) => {
    const pt = s.kind === 'audio' ? OPUS_PT : VP8_PT;
    const rtx = s.kind === 'video' && s.rtx === true;
    lines.push(
      `m=${s.kind} 9 UDP/TLS/RTP/SAVPF ${pt}${rtx ? ` ${RTX_PT}` : ''}`,
      'c=IN IP4 0.0.0.0',
      `a=ice-ufrag:${PEER_UFRAG}`,
      `a=ice-pwd:${PEER_PWD}`,
      `a=fingerprint:sha-256 ${fp}`,
      'a=setup:actpass',
      `a=mid:${i}`,
      `a=${direction}`,
      'a=rtcp-mux',
      s.kind === 'audio' ? `a=rtpmap:${pt} opus/48000/2` : `a=rtpmap:${pt} VP8/90000`,
    );
    if (s.kind === 'video') lines.push(`a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`);
    if (rtx) lines.push(`a=rtpmap:${RTX_PT} rtx/90000`, `a=fmtp:${RTX_PT} apt=${pt}`);
    if (s.ssrc !== undefined) lines.push(`a=ssrc:${s.ssrc} cname:ops-peer`);
  });
  return `${lines.join('\r\n')}\r\n`;
}

export const postSdp = (url: string, sdp: string, type = 'application/sdp'): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body: sdp });

export interface Session {
  peer: NodePeer;
  /** `/resource/<id>`. */
  location: string;
  answer: string;
  /** SSRCs the answer announces (a viewer's consumers). */
  ssrcs: number[];
}

/**
 * POSTs the offer to `base + path` (`/whip/<room>` or `/whep/<room>`), then does ICE and DTLS
 * as the answer says, until SRTP is keyed. `udp` is the SFU's media port.
 */
export async function connectSession(
  base: string,
  path: string,
  udp: { family: 4 | 6; address: string; port: number },
  sections: readonly OfferSection[],
): Promise<Session> {
  const direction = path.startsWith('/whip/') ? 'sendonly' : 'recvonly';
  const res = await postSdp(`${base}${path}`, await peerOffer(direction, sections));
  const answer = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${answer}`);
  const attr = (name: string): string => {
    const v = new RegExp(`^a=${name}:(.+)$`, 'm').exec(answer)?.[1]?.trim();
    if (v === undefined) throw new Error(`answer without a=${name}`);
    return v;
  };
  const setup = attr('setup');
  const ep = {
    localUfrag: attr('ice-ufrag'),
    localPwd: attr('ice-pwd'),
    localFingerprint: attr('fingerprint').replace(/^sha-256\s+/, ''),
    dtlsRole: setup === 'active' ? ('client' as const) : ('server' as const),
  };
  const peer = await NodePeer.open(udp);
  try {
    await peer.nominate(ep);
    await peer.connect(ep);
  } catch (err) {
    peer.close();
    throw err;
  }
  const ssrcs = [...answer.matchAll(/^a=ssrc:(\d+) cname/gm)].map((m) => Number(m[1]));
  return { peer, location: res.headers.get('location') ?? '', answer, ssrcs };
}

export interface OpsSfu extends ListeningSfu {
  /** `connectSession` against this server; the peer is closed in the teardown. */
  connect(path: string, sections: readonly OfferSection[]): Promise<Session>;
}

/**
 * An SfuServer on port 0 for NodePeer sessions: `t`'s teardown closes every session's peer,
 * then the server.
 */
export async function startOpsSfu(t: Test, options: SfuServerOptions = {}): Promise<OpsSfu> {
  const started = await listenSfu(options);
  const sessions: Session[] = [];
  t.teardown(async () => {
    for (const s of sessions) s.peer.close();
    await started.sfu.close();
  });
  return {
    ...started,
    connect: async (path, sections) => {
      const session = await connectSession(started.url, path, started.udp, sections);
      sessions.push(session);
      return session;
    },
  };
}

/** Waits until `cond()` or about `ms`. */
export async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 20) await delay(20);
  return cond();
}

/** A clear Opus RTP packet, 20 ms after the one before. */
export function opusPacket(ssrc: number, seq: number, fill = 0x5a, size = 60): Buffer {
  return rtpPacket(ssrc, seq, OPUS_PT, size, fill, 960);
}

/** A clear VP8 RTP packet (RFC 7741 descriptor with a PictureID); `key` marks a key frame. */
export function vp8Packet(ssrc: number, seq: number, key: boolean): Buffer {
  const payload = [0x90, 0x80, 0x81, 0x23, key ? 0x10 : 0x11, 1, 2, 3, 4, 5, 6, 7];
  const p = Buffer.alloc(12 + payload.length);
  p[0] = 0x80;
  p[1] = 0x80 | VP8_PT; // marker: one packet per frame
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 3000) >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  Buffer.from(payload).copy(p, 12);
  return p;
}

/** Captures log lines for assertions. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (level) => level !== 'debug',
  };
  return { logger, lines };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}
