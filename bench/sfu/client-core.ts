/**
 * What the SFU bench's light clients share, whichever server they talk to: one UDP socket, an
 * ICE check with USE-CANDIDATE as the controlling agent (and a consent check every 5 s), a
 * DTLS handshake in the role the SDP answer implies, SRTP keyed from it, and the receive
 * demultiplexing (RFC 7983: STUN, DTLS, RTP/RTCP). Signalling, where datagrams go and any
 * answer to the server's own STUN checks are the subclass's (bench/sfu/light-client.ts for
 * rtcd's WHIP/WHEP, bench/sfu/janus-client.ts for Janus's HTTP API).
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
/** How long a client's signaling request, and then its ICE and DTLS, may take. */
export const CONNECT_TIMEOUT_MS = 20_000;

/** The client's ICE password, in every SDP it sends. */
export const CLIENT_PWD = 'benchclientpassword0123456';

export interface ClientCoreOptions {
  certificate: DtlsCertificate;
  /** Unique per client (4+ ice-chars). */
  ufrag: string;
  profile: SrtpProfileName;
}

/** What the client needs from the server's SDP to connect. */
export interface RemoteTransport {
  ufrag: string;
  pwd: string;
  fingerprint: string;
  setup: string;
}

/**
 * Address "lookup" for sends to IP literals: answers at once. Node's default (`dns.lookup`)
 * answers an IP literal on the next tick, so every send of the clients' would cost a
 * `nextTick` and wait behind the rest of the tick (what the latency measures includes it).
 */
function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}

/** A UDP socket bound to `address` on a free port, with a 1 MB receive buffer. */
export async function bindClientSocket(address: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', lookup: literalLookup });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  socket.setRecvBufferSize(1 << 20);
  return socket;
}

export abstract class ClientCore<R extends RemoteTransport = RemoteTransport> {
  readonly socket: Socket;
  /** The socket's port (read once: `socket.address()` is a system call and an object). */
  readonly port: number;
  srtp: SrtpTransport | undefined;
  /** The server's SRTP master key and salt (what `srtp` unprotects with): for `StampReader`. */
  remoteKeys: SrtpKeys | undefined;
  /** Every SRTP/SRTCP datagram from the server (still protected) and from other clients. */
  onMedia: (datagram: Buffer, from: RemoteInfo) => void = () => {};
  /** The server's side, from its SDP (set by the subclass's signalling). */
  remote: R | undefined;
  private dtls: DtlsConnection | undefined;
  private dtlsTimer: NodeJS.Timeout | undefined;
  private consentTimer: NodeJS.Timeout | undefined;
  private nominated: (() => void) | undefined;

  private closed = false;

  protected constructor(
    readonly o: ClientCoreOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    this.port = socket.address().port;
    socket.on('message', (d, from) => this.receive(d, from));
  }

  /** Sends one datagram to the server. */
  abstract send(datagram: Uint8Array): void;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.dtlsTimer);
    clearInterval(this.consentTimer);
    this.nominated = undefined;
    this.socket.close();
  }

  /** A STUN request from the server (its own connectivity check); ignored unless overridden. */
  protected stunRequest(_d: Buffer, _from: RemoteInfo): void {}

  /**
   * Once `remote` is set: nominates, runs DTLS (failing after `timeoutMs` if given), then
   * keeps consent fresh. Clients pass `CONNECT_TIMEOUT_MS`: a handshake whose datagram was
   * lost is then a failed connect, counted, not a client process that never answers.
   */
  protected async establish(timeoutMs?: number): Promise<void> {
    if (timeoutMs === undefined) {
      await this.nominate();
      await this.handshake();
    } else {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`ICE/DTLS not up in ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([this.nominate().then(() => this.handshake()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    this.consentTimer = setInterval(() => this.check(false), CONSENT_INTERVAL_MS);
  }

  private check(useCandidate: boolean): void {
    const r = this.remote;
    // A connect that timed out closes the client while nominate()'s resend timer may still
    // run: a send on the closed socket would throw and end the whole client process.
    if (!r || this.closed) return;
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
    // An actpass offer of ours is answered passive (the server is the DTLS server) or active;
    // an actpass offer of the server's we answer active (we are the client).
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
      if (d[0] === 0x01 && d[1] === 0x01 && this.nominated) {
        // A STUN success response (0x0101) to a check: the first one ends nomination.
        this.nominated();
        this.nominated = undefined;
      } else if (d[0] === 0x00 && d[1] === 0x01) {
        this.stunRequest(d, from);
      }
    } else if (b >= 20 && b <= 63) {
      this.dtls?.receive(d, performance.now());
      this.schedule();
    }
  }
}
