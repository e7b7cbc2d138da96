/**
 * A minimal client-side WebRTC transport for the endpoint specs, from rtcd's own parts on a
 * bare UDP socket: it nominates with a real ICE check (lib/ice buildCheckRequest), runs a
 * DtlsConnection in the role opposite the endpoint's, and keys SRTP from it like the
 * endpoint does. It also sends raw bytes, so specs can choose every byte of bad input.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { type DtlsCertificate, generateCertificate } from '../../lib/dtls/certificate.js';
import { type DtlsCloseReason, DtlsConnection } from '../../lib/dtls/connection.js';
import { buildCheckRequest } from '../../lib/ice/stun-check.js';
import { SRTP_PROFILE_IDS, type SrtpProfileName } from '../../lib/srtp/profiles.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import type { WebRtcEndpoint } from '../../lib/webrtc/endpoint.js';
import type { WebRtcRemoteParameters } from '../../lib/webrtc/options.js';
import { SrtpTransport } from '../../lib/webrtc/srtp-transport.js';

export const PEER_UFRAG = 'nodepeer';
export const PEER_PWD = 'nodepeerPassword0123456789'; // ice-chars only (RFC 8839 §5.4)

let sharedCertificate: Promise<DtlsCertificate> | undefined;
/** One certificate for every peer of a spec file (generating one costs milliseconds). */
export function peerCertificate(): Promise<DtlsCertificate> {
  sharedCertificate ??= generateCertificate({ commonName: 'node-peer' });
  return sharedCertificate;
}

/** What the peer's "offer" says, for `new WebRtcEndpoint({ remote })`. */
export async function peerRemoteParameters(
  setup: WebRtcRemoteParameters['setup'] = 'actpass',
): Promise<WebRtcRemoteParameters> {
  const cert = await peerCertificate();
  return {
    iceUfrag: PEER_UFRAG,
    icePwd: PEER_PWD,
    setup,
    fingerprints: [{ algorithm: 'sha-256', value: cert.fingerprint('sha-256') }],
  };
}

export class NodePeer {
  readonly socket: Socket;
  readonly server: TransportAddress;
  dtls: DtlsConnection | undefined;
  srtp: SrtpTransport | undefined;
  dtlsClosed: DtlsCloseReason | undefined;
  /** Decrypted RTP/RTCP from the endpoint. */
  readonly rtp: Buffer[] = [];
  readonly rtcp: Buffer[] = [];
  /** DTLS application data from the endpoint. */
  readonly data: Buffer[] = [];
  /** DTLS datagrams from the endpoint still to be lost on purpose (to make it retransmit). */
  loseIncomingDtls = 0;
  /** DTLS datagrams received from the endpoint, lost ones included. */
  dtlsReceived = 0;
  #timer: NodeJS.Timeout | undefined;

  readonly #certificate: DtlsCertificate;

  private constructor(socket: Socket, server: TransportAddress, certificate: DtlsCertificate) {
    this.socket = socket;
    this.server = server;
    this.#certificate = certificate;
    socket.on('message', (d) => this.#onMessage(d));
  }

  static async open(server: TransportAddress): Promise<NodePeer> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new NodePeer(socket, server, await peerCertificate());
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.address);
  }

  /** Sends nominating checks until one is answered with a success. */
  async nominate(ep: Pick<WebRtcEndpoint, 'localUfrag' | 'localPwd'>): Promise<void> {
    const check = (): Buffer =>
      buildCheckRequest({
        localUfrag: PEER_UFRAG,
        remoteUfrag: ep.localUfrag,
        remotePwd: ep.localPwd,
        priority: 0x6e7f1eff,
        role: 'controlling',
        tieBreaker: 0x1234n,
        useCandidate: true,
      });
    const answered = new Promise<void>((resolve) => {
      const on = (d: Buffer): void => {
        if (d.length >= 2 && d[0] === 0x01 && d[1] === 0x01) {
          this.socket.off('message', on);
          resolve();
        }
      };
      this.socket.on('message', on);
    });
    const resend = setInterval(() => this.send(check()), 200);
    this.send(check());
    try {
      await answered;
    } finally {
      clearInterval(resend);
    }
  }

  /** Runs DTLS against `ep` (in the role opposite `ep.dtlsRole`) until SRTP is keyed. */
  async connect(
    ep: Pick<WebRtcEndpoint, 'dtlsRole' | 'localFingerprint'>,
    profiles: readonly SrtpProfileName[] = ['AEAD_AES_128_GCM'],
    initialRetransmitMs = 400,
  ): Promise<void> {
    const role = ep.dtlsRole === 'server' ? 'client' : 'server';
    const connected = new Promise<void>((resolve, reject) => {
      this.dtls = new DtlsConnection(
        {
          role,
          certificate: this.#certificate,
          remoteFingerprints: [{ algorithm: 'sha-256', value: ep.localFingerprint }],
          srtpProfiles: profiles.map((p) => SRTP_PROFILE_IDS[p]),
          initialRetransmitMs,
        },
        {
          send: (d) => this.send(d),
          data: (b) => this.data.push(b),
          connected: () => {
            this.srtp = SrtpTransport.fromDtls(this.dtls!, role, {
              replayWindow: 512,
              maxStreams: 16,
            });
            resolve();
          },
          closed: (why) => {
            this.dtlsClosed = why;
            reject(new Error(`peer DTLS closed: ${JSON.stringify(why)}`));
          },
        },
      );
    });
    this.dtls!.start(performance.now());
    this.#schedule();
    await connected;
  }

  sendRtp(clear: Uint8Array): void {
    const out = this.srtp!.protectRtp(clear);
    if (typeof out === 'string') throw new Error(`protect failed: ${out}`);
    this.send(out);
  }

  sendRtcp(clear: Uint8Array): void {
    const out = this.srtp!.protectRtcp(clear);
    if (typeof out === 'string') throw new Error(`protect failed: ${out}`);
    this.send(out);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.socket.close();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const at = this.dtls?.nextTimeout();
    if (at === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.dtls?.handleTimeout(performance.now());
        this.#schedule();
      },
      Math.max(0, at - performance.now()),
    );
  }

  #onMessage(d: Buffer): void {
    const b = d[0] ?? 0;
    if (b >= 20 && b <= 63) {
      this.dtlsReceived++;
      if (this.loseIncomingDtls > 0) {
        this.loseIncomingDtls--;
        return;
      }
      this.dtls?.receive(d, performance.now());
      this.#schedule();
    } else if (b >= 128 && b <= 191 && this.srtp !== undefined) {
      const r = this.srtp.unprotect(d);
      if (r.kind === 'rtp') this.rtp.push(Buffer.from(r.packet));
      else if (r.kind === 'rtcp') this.rtcp.push(Buffer.from(r.packet));
    }
  }
}

/**
 * A clear RTP packet: version 2, `pt`, `seq`, `ssrc`, a payload of `size` bytes of `fill`, and
 * the timestamp `seq * tsStep` (3000: 30 fps video at 90 kHz; 960: 20 ms of Opus at 48 kHz).
 */
export function rtpPacket(
  ssrc: number,
  seq: number,
  pt = 96,
  size = 100,
  fill = 0xab,
  tsStep = 3000,
): Buffer {
  const p = Buffer.alloc(12 + size, fill);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * tsStep) >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  return p;
}
