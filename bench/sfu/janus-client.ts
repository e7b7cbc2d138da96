/**
 * The SFU bench's light client (bench/sfu/light-client.ts) adapted to Janus VideoRoom: the
 * same rtcd parts (ICE check, DTLS, SRTP: bench/sfu/client-core.ts) on one UDP socket, but
 * signalled over Janus's HTTP API, and talking to the host candidate Janus puts in its SDP
 * (Janus opens one port per PeerConnection, where rtcd shares one). Janus runs ICE-lite here,
 * as rtcd does, so the client is the controlling agent and nominates with USE-CANDIDATE; its
 * own host candidate goes in its SDP so Janus has a remote candidate from the start.
 *
 * A publisher sends `joinandconfigure` with its offer and gets Janus's answer; a subscriber
 * sends `join` (ptype subscriber, the publisher's feed), gets Janus's offer and answers with
 * `start`, taking the DTLS client role (`a=setup:active`).
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { buildCheckSuccess } from '../../lib/ice/stun-check.js';
import { decodeStunMessage } from '../../lib/stun/message.js';
import {
  bindClientSocket,
  CLIENT_PWD,
  ClientCore,
  type ClientCoreOptions,
  CONNECT_TIMEOUT_MS,
  type RemoteTransport,
} from './client-core.js';
import type { JanusSession, PluginReply } from './janus-api.js';

const FEED_RETRIES = 20;
const FEED_RETRY_MS = 100;

export interface JanusClientOptions extends ClientCoreOptions {
  session: JanusSession;
  /** The address this client binds and announces (Janus's namespace address). */
  address: string;
}

/** What the client needs from Janus's SDP. */
export interface JanusTransport extends RemoteTransport {
  address: string;
  port: number;
  mid: string;
  /** The payload type Janus uses for VP8. */
  vp8: number;
}

/** Reads Janus's offer or answer (one video section); throws naming what is missing. */
export function readJanusSdp(sdp: string): JanusTransport {
  const get = (re: RegExp): RegExpExecArray => {
    const m = re.exec(sdp);
    if (!m) throw new Error(`janus SDP without ${re.source}:\n${sdp}`);
    return m;
  };
  const candidate = get(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/i);
  return {
    ufrag: get(/a=ice-ufrag:(\S+)/)[1]!,
    pwd: get(/a=ice-pwd:(\S+)/)[1]!,
    fingerprint: get(/a=fingerprint:sha-256 (\S+)/i)[1]!,
    setup: get(/a=setup:(\S+)/)[1]!,
    address: candidate[1]!,
    port: Number(candidate[2]),
    mid: get(/a=mid:(\S+)/)[1]!,
    vp8: Number(get(/a=rtpmap:(\d+) VP8\/90000/)[1]),
  };
}

/**
 * This client's SDP: the publisher's offer (sendonly, its SSRC, `actpass`) or the subscriber's
 * answer to Janus's offer (recvonly, Janus's mid and VP8 payload type, `active`).
 */
export function janusClientSdp(o: {
  direction: 'sendonly' | 'recvonly';
  ufrag: string;
  fingerprint: string;
  address: string;
  port: number;
  mid?: string;
  pt?: number;
  ssrc?: number;
}): string {
  const mid = o.mid ?? '0';
  const pt = o.pt ?? 96;
  return [
    'v=0',
    `o=- 1 2 IN IP4 ${o.address}`,
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${pt}`,
    `c=IN IP4 ${o.address}`,
    `a=ice-ufrag:${o.ufrag}`,
    `a=ice-pwd:${CLIENT_PWD}`,
    `a=fingerprint:sha-256 ${o.fingerprint}`,
    `a=setup:${o.direction === 'sendonly' ? 'actpass' : 'active'}`,
    `a=mid:${mid}`,
    `a=${o.direction}`,
    'a=rtcp-mux',
    `a=rtpmap:${pt} VP8/90000`,
    `a=rtcp-fb:${pt} nack pli`,
    ...(o.ssrc === undefined ? [] : [`a=ssrc:${o.ssrc} cname:bench`]),
    `a=candidate:1 1 udp 2130706431 ${o.address} ${o.port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

export class JanusClient extends ClientCore<JanusTransport> {
  handle = 0;
  /** The publisher's feed id (publishers only). */
  feed = 0;

  private constructor(
    readonly options: JanusClientOptions,
    socket: Socket,
  ) {
    super(options, socket);
  }

  static async open(o: JanusClientOptions): Promise<JanusClient> {
    return new JanusClient(o, await bindClientSocket(o.address));
  }

  private sdp(
    direction: 'sendonly' | 'recvonly',
    extra: { mid?: string; pt?: number; ssrc?: number },
  ): string {
    return janusClientSdp({
      direction,
      ufrag: this.o.ufrag,
      fingerprint: this.o.certificate.fingerprint('sha-256'),
      address: this.options.address,
      port: this.port,
      ...extra,
    });
  }

  /** Creates VideoRoom `room` (1 publisher) and publishes one VP8 track with `ssrc` into it. */
  async publish(room: number, ssrc: number): Promise<void> {
    const s = this.options.session;
    this.handle = await s.attach();
    await s.message(this.handle, {
      request: 'create',
      room,
      publishers: 1,
      videocodec: 'vp8',
      // No REMB cap and no periodic FIR/PLI from Janus: the bench's publisher sends a key
      // frame every second on its own, as it does towards rtcd.
      bitrate: 0,
      fir_freq: 0,
      notify_joining: false,
    });
    const offer = this.sdp('sendonly', { ssrc });
    const r = await s.message(
      this.handle,
      { request: 'joinandconfigure', ptype: 'publisher', room, display: 'bench' },
      { type: 'offer', sdp: offer },
    );
    if (r.data.videoroom !== 'joined' || typeof r.data.id !== 'number' || !r.jsep) {
      throw new Error(`janus publish: ${JSON.stringify(r)}`);
    }
    this.feed = r.data.id;
    this.remote = readJanusSdp(r.jsep.sdp);
    await this.establish(CONNECT_TIMEOUT_MS);
  }

  /** Subscribes to `feed` in `room`: Janus offers, this client answers. */
  async subscribe(room: number, feed: number): Promise<void> {
    const s = this.options.session;
    this.handle = await s.attach();
    const join = { request: 'join', ptype: 'subscriber', room, streams: [{ feed }] };
    let r: PluginReply | undefined;
    // Janus lists a feed once its own side of the publisher's DTLS is done, which can be a
    // moment after ours (we sent the last flight): until then a join gets 428 No such feed.
    for (let attempt = 1; r === undefined; attempt++) {
      try {
        r = await s.message(this.handle, join);
      } catch (err) {
        if (attempt >= FEED_RETRIES || !String(err).includes(': 428 ')) throw err;
        await new Promise((resolve) => setTimeout(resolve, FEED_RETRY_MS));
      }
    }
    if (r.data.videoroom !== 'attached' || !r.jsep) {
      throw new Error(`janus subscribe: ${JSON.stringify(r)}`);
    }
    this.remote = readJanusSdp(r.jsep.sdp);
    const answer = this.sdp('recvonly', { mid: this.remote.mid, pt: this.remote.vp8 });
    await s.message(this.handle, { request: 'start' }, { type: 'answer', sdp: answer });
    await this.establish(CONNECT_TIMEOUT_MS);
  }

  send(datagram: Uint8Array): void {
    const r = this.remote;
    if (r) this.socket.send(datagram, r.port, r.address);
  }

  /**
   * Janus's libnice sends its own checks even in ICE-lite mode and waits for them before it
   * starts DTLS: answer them (short-term credentials: our password, RFC 8445 §7.3). The bench
   * trusts Janus's USERNAME and integrity; it only needs the response to be valid.
   */
  protected override stunRequest(d: Buffer, from: RemoteInfo): void {
    const m = decodeStunMessage(d);
    if (!m.ok) return;
    const mapped = { family: 4 as const, address: from.address, port: from.port };
    this.socket.send(buildCheckSuccess(m.message, mapped, CLIENT_PWD), from.port, from.address);
  }
}
