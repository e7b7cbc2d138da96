/**
 * A light synthetic WebRTC client for the SFU bench, from rtcd's own parts on one UDP socket:
 * a WHIP or WHEP POST whose offer carries this client's ufrag and certificate fingerprint, an
 * ICE check with USE-CANDIDATE to the SFU's ICE-lite port (and a consent check every 5 s),
 * a DTLS client handshake, and SRTP keyed from it. No jitter buffer, no RTCP reports: just
 * what a forwarding benchmark needs, so the clients stay cheap next to the SFU they load.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { DtlsCertificate } from '../../lib/dtls/certificate.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { SRTP_EXPORTER_LABEL } from '../../lib/dtls/srtp-keys.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { dtlsExportLength, keysFromDtlsExport } from '../../lib/srtp/dtls-keys.js';
import type { SrtpKeys } from '../../lib/srtp/key-derivation.js';
import { SRTP_PROFILE_IDS, type SrtpProfileName } from '../../lib/srtp/profiles.js';
import { SrtpTransport } from '../../lib/webrtc/srtp-transport.js';

const CONSENT_INTERVAL_MS = 5000;

export interface LightClientOptions {
  certificate: DtlsCertificate;
  /** SFU HTTP base URL. */
  url: string;
  /** SFU ICE-lite UDP port on 127.0.0.1. */
  udpPort: number;
  /** Unique per client (4+ ice-chars). */
  ufrag: string;
  profile: SrtpProfileName;
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
    'a=ice-pwd:benchclientpassword0123456',
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

interface AnswerTransport {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  setup: string;
}

function readAnswer(sdp: string): AnswerTransport {
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

export class LightClient {
  readonly socket: Socket;
  srtp: SrtpTransport | undefined;
  /** The SFU's SRTP master key and salt (what `srtp` unprotects with): for `StampReader`. */
  remoteKeys: SrtpKeys | undefined;
  /** The WHIP/WHEP resource path (for DELETE). */
  resource: string | undefined;
  /** Every SRTP/SRTCP datagram from the SFU (still protected) and from other clients. */
  onMedia: (datagram: Buffer, from: RemoteInfo) => void = () => {};
  private dtls: DtlsConnection | undefined;
  private dtlsTimer: NodeJS.Timeout | undefined;
  private consentTimer: NodeJS.Timeout | undefined;
  private nominated: (() => void) | undefined;
  private remote: AnswerTransport | undefined;

  private constructor(
    readonly o: LightClientOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    socket.on('message', (d, from) => this.receive(d, from));
  }

  static async open(o: LightClientOptions): Promise<LightClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.setRecvBufferSize(1 << 20);
    return new LightClient(o, socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** POSTs the offer (WHIP for `sendonly` with `ssrc`, WHEP for `recvonly`), then connects. */
  async connect(kind: 'whip' | 'whep', room: string, ssrc?: number): Promise<void> {
    const offer = benchOffer({
      direction: kind === 'whip' ? 'sendonly' : 'recvonly',
      ufrag: this.o.ufrag,
      fingerprint: this.o.certificate.fingerprint('sha-256'),
      ...(ssrc === undefined ? {} : { ssrc }),
    });
    const res = await fetch(`${this.o.url}/${kind}/${room}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
    });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`${kind} ${room}: ${res.status} ${body}`);
    this.resource = res.headers.get('location') ?? undefined;
    this.remote = readAnswer(body);
    await this.nominate();
    await this.handshake();
    this.consentTimer = setInterval(() => this.check(false), CONSENT_INTERVAL_MS);
  }

  send(datagram: Uint8Array): void {
    this.socket.send(datagram, this.o.udpPort, '127.0.0.1');
  }

  close(): void {
    clearTimeout(this.dtlsTimer);
    clearInterval(this.consentTimer);
    this.nominated = undefined;
    this.socket.close();
  }

  private check(useCandidate: boolean): void {
    const r = this.remote;
    if (!r) return;
    this.send(
      buildCheckRequest({
        localUfrag: this.o.ufrag,
        remoteUfrag: r.ufrag,
        remotePwd: r.pwd,
        priority: 0x6e7f1eff,
        role: 'controlling',
        tieBreaker: 0x5eedn,
        useCandidate,
      }),
    );
  }

  private async nominate(): Promise<void> {
    const answered = new Promise<void>((resolve) => {
      this.nominated = resolve;
    });
    const resend = setInterval(() => this.check(true), 200);
    this.check(true);
    try {
      await answered;
    } finally {
      clearInterval(resend);
    }
  }

  private async handshake(): Promise<void> {
    const r = this.remote!;
    // Our offer said actpass; the SFU answers passive (it is the DTLS server) or active.
    const role = r.setup === 'active' ? 'server' : 'client';
    await new Promise<void>((resolve, reject) => {
      const dtls = new DtlsConnection(
        {
          role,
          certificate: this.o.certificate,
          remoteFingerprints: [{ algorithm: 'sha-256', value: r.fingerprint }],
          srtpProfiles: [SRTP_PROFILE_IDS[this.o.profile]],
          initialRetransmitMs: 500,
        },
        {
          send: (d) => this.send(d),
          data: () => {},
          connected: () => {
            this.srtp = SrtpTransport.fromDtls(dtls, role, { replayWindow: 1024, maxStreams: 16 });
            if (this.srtp) {
              const p = this.srtp.profile;
              const material = dtls.exportKeyingMaterial(SRTP_EXPORTER_LABEL, dtlsExportLength(p));
              this.remoteKeys = keysFromDtlsExport(p, material, role).remote;
            }
            if (this.srtp) resolve();
            else reject(new Error('no SRTP profile negotiated'));
          },
          closed: (why) => reject(new Error(`DTLS closed: ${JSON.stringify(why)}`)),
        },
      );
      this.dtls = dtls;
      dtls.start(performance.now());
      this.schedule();
    });
  }

  private schedule(): void {
    clearTimeout(this.dtlsTimer);
    const at = this.dtls?.nextTimeout();
    if (at === undefined) return;
    this.dtlsTimer = setTimeout(
      () => {
        this.dtls?.handleTimeout(performance.now());
        this.schedule();
      },
      Math.max(0, at - performance.now()),
    );
  }

  private receive(d: Buffer, from: RemoteInfo): void {
    const b = d[0] ?? 0;
    if (b >= 128 && b <= 191) {
      this.onMedia(d, from);
    } else if (b < 2) {
      // A STUN success response (0x0101) to a check: the first one ends nomination.
      if (d[0] === 0x01 && d[1] === 0x01 && this.nominated) {
        this.nominated();
        this.nominated = undefined;
      }
    } else if (b >= 20 && b <= 63) {
      this.dtls?.receive(d, performance.now());
      this.schedule();
    }
  }
}
