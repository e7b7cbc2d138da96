/**
 * A light synthetic WebRTC client for the SFU bench, from rtcd's own parts on one UDP socket
 * (bench/sfu/client-core.ts):
 * a WHIP or WHEP POST whose offer carries this client's ufrag and certificate fingerprint, an
 * ICE check with USE-CANDIDATE to the SFU's ICE-lite port (and a consent check every 5 s),
 * a DTLS client handshake, and SRTP keyed from it. No jitter buffer, no RTCP reports: just
 * what a forwarding benchmark needs, so the clients stay cheap next to the SFU they load.
 */
import type { Socket } from 'node:dgram';
import {
  bindClientSocket,
  CLIENT_PWD,
  ClientCore,
  type ClientCoreOptions,
  CONNECT_TIMEOUT_MS,
  type RemoteTransport,
} from './client-core.js';

export interface LightClientOptions extends ClientCoreOptions {
  /** SFU HTTP base URL. */
  url: string;
  /** SFU ICE-lite UDP port on 127.0.0.1. */
  udpPort: number;
}

/** The offer a browser would POST: one VP8 video section, BUNDLE, rtcp-mux, no candidates. */
export function benchOffer(o: {
  direction: 'sendonly' | 'recvonly';
  ufrag: string;
  fingerprint: string;
  ssrc?: number;
}): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${o.ufrag}`,
    `a=ice-pwd:${CLIENT_PWD}`,
    `a=fingerprint:sha-256 ${o.fingerprint}`,
    'a=setup:actpass',
    'a=mid:0',
    `a=${o.direction}`,
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 nack pli',
    ...(o.ssrc === undefined ? [] : [`a=ssrc:${o.ssrc} cname:bench`]),
    '',
  ].join('\r\n');
}

function readAnswer(sdp: string): RemoteTransport {
  const get = (re: RegExp): string => {
    const m = re.exec(sdp);
    if (!m?.[1]) throw new Error(`answer without ${re.source}`);
    return m[1];
  };
  return {
    ufrag: get(/a=ice-ufrag:(\S+)/),
    pwd: get(/a=ice-pwd:(\S+)/),
    fingerprint: get(/a=fingerprint:sha-256 (\S+)/),
    setup: get(/a=setup:(\S+)/),
  };
}

export class LightClient extends ClientCore {
  /** The WHIP/WHEP resource path (for DELETE). */
  resource: string | undefined;

  private constructor(
    readonly options: LightClientOptions,
    socket: Socket,
  ) {
    super(options, socket);
  }

  static async open(o: LightClientOptions): Promise<LightClient> {
    return new LightClient(o, await bindClientSocket('127.0.0.1'));
  }

  /** POSTs the offer (WHIP for `sendonly` with `ssrc`, WHEP for `recvonly`), then connects. */
  async connect(kind: 'whip' | 'whep', room: string, ssrc?: number): Promise<void> {
    const offer = benchOffer({
      direction: kind === 'whip' ? 'sendonly' : 'recvonly',
      ufrag: this.o.ufrag,
      fingerprint: this.o.certificate.fingerprint('sha-256'),
      ...(ssrc === undefined ? {} : { ssrc }),
    });
    const res = await fetch(`${this.options.url}/${kind}/${room}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
    });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`${kind} ${room}: ${res.status} ${body}`);
    this.resource = res.headers.get('location') ?? undefined;
    this.remote = readAnswer(body);
    await this.establish(CONNECT_TIMEOUT_MS);
  }

  send(datagram: Uint8Array): void {
    this.socket.send(datagram, this.options.udpPort, '127.0.0.1');
  }
}
