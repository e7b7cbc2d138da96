import { EventEmitter } from 'node:events';
import type { DtlsCertificate } from '../dtls/certificate.js';
import { type DtlsCloseReason, DtlsConnection } from '../dtls/connection.js';
import { isRtcp, type PacketClass } from '../ice/demux.js';
import type { IceLiteSession } from '../ice/lite-session.js';
import type { IceLiteMux } from '../ice/udp-mux.js';
import { SRTP_PROFILE_IDS, type SrtpProfileName } from '../srtp/profiles.js';
import type { Logger } from '../util/logger.js';
import type {
  WebRtcCloseReason,
  WebRtcDropReason,
  WebRtcEndpointCounters,
  WebRtcEndpointEvents,
  WebRtcEndpointStats,
  WebRtcState,
} from './endpoint-events.js';
import {
  checkRemoteParameters,
  dtlsRoleFor,
  localSetupFor,
  type ResolvedWebRtcOptions,
  resolveWebRtcOptions,
  type WebRtcEndpointOptions,
  WebRtcOptionsError,
  type WebRtcRemoteParameters,
} from './options.js';
import { SrtpTransport } from './srtp-transport.js';

/**
 * One server-side WebRTC peer: an ICE-lite session on a shared `IceLiteMux`, DTLS in the role
 * `a=setup` gives (RFC 5763), the peer authenticated by its SDP fingerprint, and SRTP/SRTCP
 * keyed from the DTLS exporter (RFC 5764). Packets the session delivers are demultiplexed by
 * RFC 7983 first byte (the mux sends STUN to ICE): DTLS to the connection, RTP/RTCP (rtcp-mux)
 * through SRTP to the `rtp` / `rtcp` events. Bad packets are dropped and counted, never thrown.
 *
 *   const ep = new WebRtcEndpoint({ mux, certificate, remote: { iceUfrag, icePwd,
 *     setup: 'actpass', fingerprints: [{ algorithm: 'sha-256', value }] } });
 *   // answer with ep.localUfrag, ep.localPwd, ep.localSetup, ep.localFingerprint, mux.candidates
 *   ep.on('rtp', (p) => …);  ep.sendRtp(packet);
 *
 * Closing is idempotent and cascades: it sends close_notify and closes the ICE session.
 */
export class WebRtcEndpoint extends EventEmitter<WebRtcEndpointEvents> {
  readonly options: ResolvedWebRtcOptions;
  readonly certificate: DtlsCertificate;
  readonly #session: IceLiteSession;
  readonly #logger: Logger;
  readonly #now: () => number;
  #state: WebRtcState = 'new';
  #remote: WebRtcRemoteParameters | undefined;
  #dtls: DtlsConnection | undefined;
  #srtp: SrtpTransport | undefined;
  #dtlsTimer: NodeJS.Timeout | undefined;
  #dtlsTimerAt = Number.POSITIVE_INFINITY;
  #connectTimer: NodeJS.Timeout | undefined;
  #closeReason: WebRtcCloseReason | undefined;
  readonly #drops = new Map<WebRtcDropReason, number>();
  #dropped = 0;
  readonly #counts = {
    rtpPacketsReceived: 0,
    rtpBytesReceived: 0,
    rtcpPacketsReceived: 0,
    rtcpBytesReceived: 0,
    rtpPacketsSent: 0,
    rtpBytesSent: 0,
    rtcpPacketsSent: 0,
    rtcpBytesSent: 0,
    dtlsPacketsReceived: 0,
    sendFailures: 0,
  };

  /**
   * @throws WebRtcOptionsError for a bad option or remote parameter, and the mux's
   * IceLiteOptionsError for bad or duplicate credentials or a full or closed mux.
   */
  constructor(o: WebRtcEndpointOptions) {
    super();
    this.options = resolveWebRtcOptions(o);
    if (o.mux === undefined || typeof o.mux.createSession !== 'function') {
      throw new WebRtcOptionsError('mux', 'must be an IceLiteMux');
    }
    if (o.certificate === undefined || typeof o.certificate.fingerprint !== 'function') {
      throw new WebRtcOptionsError('certificate', 'must be a DtlsCertificate');
    }
    if (o.remote !== undefined) checkRemoteParameters(o.remote);
    this.certificate = o.certificate;
    this.#logger = o.logger ?? (o.mux as IceLiteMux).logger;
    this.#now = o.now ?? (() => performance.now());
    this.#session = o.mux.createSession({
      ...(o.localUfrag === undefined ? {} : { localUfrag: o.localUfrag }),
      ...(o.localPwd === undefined ? {} : { localPwd: o.localPwd }),
      ...(o.remote === undefined
        ? {}
        : { remoteUfrag: o.remote.iceUfrag, remotePwd: o.remote.icePwd }),
    });
    this.#session.on('connected', () => this.#onIceConnected());
    this.#session.on('data', (packet, cls) => this.#onPacket(packet, cls));
    this.#session.on('disconnected', () => this.#end('closed', { reason: 'consent-lost' }));
    this.#session.on('closed', () => this.#end('closed', { reason: 'ice-closed' }));
    this.#connectTimer = setTimeout(
      () => this.#end('failed', { reason: 'connect-timeout' }),
      this.options.connectTimeoutMs,
    );
    this.#connectTimer.unref();
    if (o.remote !== undefined) this.setRemoteParameters(o.remote);
  }

  get state(): WebRtcState {
    return this.#state;
  }

  /** Why the endpoint ended, once `failed` or `closed`. */
  get closeReason(): WebRtcCloseReason | undefined {
    return this.#closeReason;
  }

  /** Our ICE ufrag for the SDP (`a=ice-ufrag`). */
  get localUfrag(): string {
    return this.#session.localUfrag;
  }

  /** Our ICE password for the SDP (`a=ice-pwd`). */
  get localPwd(): string {
    return this.#session.localPwd;
  }

  /** Our sha-256 fingerprint for the SDP (`a=fingerprint:sha-256 …`). */
  get localFingerprint(): string {
    return this.certificate.fingerprint('sha-256');
  }

  /**
   * Our `a=setup`: `passive` when we answer an offer's `actpass`, once the peer's parameters
   * are known; `actpass` before (when we make the offer).
   */
  get localSetup(): 'actpass' | 'active' | 'passive' {
    return this.#remote === undefined
      ? 'actpass'
      : localSetupFor(this.#remote.setup, this.options.preferredDtlsRole);
  }

  /** Our DTLS role, once the peer's parameters are known. */
  get dtlsRole(): 'client' | 'server' | undefined {
    return this.#remote === undefined
      ? undefined
      : dtlsRoleFor(localSetupFor(this.#remote.setup, this.options.preferredDtlsRole));
  }

  /** The negotiated SRTP protection profile, once connected. */
  get srtpProfile(): SrtpProfileName | undefined {
    return this.#srtp?.profile;
  }

  /** The ICE session (its selected address, ICE counters). */
  get iceSession(): IceLiteSession {
    return this.#session;
  }

  /**
   * The packet counters as they are (read-only, not a copy): for callers that read them
   * often, such as a periodic sweep over every endpoint, where `stats()` would build objects.
   */
  get counters(): Readonly<WebRtcEndpointCounters> {
    return this.#counts;
  }

  /**
   * Packets dropped so far, all reasons, with the DTLS connection's records; `except` leaves
   * one of the endpoint's own reasons out. Allocates nothing (a sweep calls it per endpoint).
   */
  droppedPackets(except?: WebRtcDropReason): number {
    const left = except === undefined ? 0 : (this.#drops.get(except) ?? 0);
    return this.#dropped - left + (this.#dtls?.dropped ?? 0);
  }

  /** A snapshot of the counters. */
  stats(): WebRtcEndpointStats {
    return {
      ...this.#counts,
      drops: Object.fromEntries(this.#drops),
      dtlsDrops: Object.fromEntries(this.#dtls?.drops ?? []),
    };
  }

  /**
   * The peer's ICE credentials, `a=setup` and fingerprints, from its offer or answer. Once
   * only (an ICE restart or new fingerprint needs a new endpoint). DTLS starts when both
   * these and the ICE nomination are there (as client) or when the ClientHello comes.
   */
  setRemoteParameters(remote: WebRtcRemoteParameters): void {
    checkRemoteParameters(remote);
    if (this.#remote !== undefined) {
      throw new WebRtcOptionsError('remote', 'the remote parameters are already set');
    }
    if (this.#isOver()) return;
    this.#remote = {
      ...remote,
      fingerprints: remote.fingerprints.map((f) => ({ ...f })),
    };
    this.#session.setRemoteCredentials(remote.iceUfrag, remote.icePwd);
    const role = dtlsRoleFor(localSetupFor(remote.setup, this.options.preferredDtlsRole));
    this.#dtls = new DtlsConnection(
      {
        role,
        certificate: this.certificate,
        remoteFingerprints: this.#remote.fingerprints.map((f) => ({ ...f })),
        srtpProfiles: this.options.srtpProfiles.map((p) => SRTP_PROFILE_IDS[p]),
        mtu: this.options.dtlsMtu,
      },
      {
        send: (d) => {
          this.#session.send(d);
        },
        data: (payload) => {
          if (this.listenerCount('data') === 0) this.#drop('dtls-application-data');
          else this.#emit('data', payload);
        },
        connected: () => this.#onDtlsConnected(),
        closed: (why) => this.#onDtlsClosed(why),
      },
    );
    if (this.#session.state === 'connected') this.#startDtls();
  }

  /**
   * Protects and sends one RTP packet, the first `length` bytes of `packet` (default all; the
   * buffer is not kept). False (counted in `sendFailures`) unless connected, or when SRTP
   * refuses it (a sequence number already sent, too many SSRCs).
   */
  sendRtp(packet: Uint8Array, length = packet.length): boolean {
    const srtp = this.#srtp;
    if (srtp === undefined || this.#state !== 'connected') return this.#sendFailed();
    // Protected straight into the datagram's buffer (the mux's pool: no allocation).
    const wire = this.#session.datagram(length + srtp.rtpOverhead);
    const n = srtp.protectRtpInto(packet, length, wire);
    if (typeof n === 'string') return this.#sendFailed();
    const out = n === wire.length ? wire : wire.subarray(0, n);
    if (!this.#session.send(out)) return this.#sendFailed();
    this.#counts.rtpPacketsSent++;
    this.#counts.rtpBytesSent += out.length;
    return true;
  }

  /** Protects and sends one (compound) RTCP packet; false as `sendRtp`. */
  sendRtcp(packet: Uint8Array): boolean {
    const srtp = this.#srtp;
    if (srtp === undefined || this.#state !== 'connected') return this.#sendFailed();
    const wire = this.#session.datagram(packet.length + srtp.rtcpOverhead);
    const n = srtp.protectRtcpInto(packet, wire);
    if (typeof n === 'string') return this.#sendFailed();
    const out = n === wire.length ? wire : wire.subarray(0, n);
    if (!this.#session.send(out)) return this.#sendFailed();
    this.#counts.rtcpPacketsSent++;
    this.#counts.rtcpBytesSent += out.length;
    return true;
  }

  /**
   * Sends `payload` (at most 16,384 bytes) as one DTLS application data record, e.g. an SCTP
   * packet (RFC 8261). False (counted in `sendFailures`) unless connected.
   */
  sendData(payload: Buffer): boolean {
    const dtls = this.#dtls;
    if (dtls === undefined || this.#state !== 'connected') return this.#sendFailed();
    dtls.send(payload);
    return true;
  }

  /** Sends close_notify (if DTLS got that far), closes the ICE session; emits `closed` once. */
  close(): void {
    this.#end('closed', { reason: 'closed' });
  }

  // --- ICE ---------------------------------------------------------------------------------

  #onIceConnected(): void {
    if (this.#isOver()) return;
    if (this.#state === 'new') this.#setState('connecting');
    this.#startDtls();
  }

  #startDtls(): void {
    const dtls = this.#dtls;
    if (dtls === undefined || dtls.state !== 'new') return;
    if (this.#state === 'new') this.#setState('connecting');
    // Client: the first ClientHello goes now. Server: waits for the peer's.
    dtls.start(this.#now());
    this.#scheduleDtls();
  }

  #onPacket(packet: Buffer, cls: PacketClass): void {
    if (this.#isOver()) return;
    if (cls === 'rtp') {
      this.#onSrtp(packet);
      return;
    }
    if (cls !== 'dtls') {
      this.#drop('unknown-class');
      return;
    }
    const dtls = this.#dtls;
    if (dtls === undefined) {
      // The peer's answer is not applied yet: its ClientHello will be retransmitted.
      this.#drop('dtls-no-remote');
      return;
    }
    this.#counts.dtlsPacketsReceived++;
    dtls.receive(packet, this.#now());
    this.#scheduleDtls();
  }

  #onSrtp(packet: Buffer): void {
    const srtp = this.#srtp;
    if (srtp === undefined) {
      this.#drop('srtp-not-keyed');
      return;
    }
    const wireLength = packet.length;
    // Told apart once here (the header stays clear), not again inside the transport.
    const rtcp = isRtcp(packet);
    const n = rtcp ? srtp.unprotectRtcpInPlace(packet) : srtp.unprotectRtpInPlace(packet);
    if (typeof n === 'string') {
      this.#drop(n);
      return;
    }
    const clear = packet.subarray(0, n);
    if (rtcp) {
      this.#counts.rtcpPacketsReceived++;
      this.#counts.rtcpBytesReceived += wireLength;
      this.#emitPacket('rtcp', clear);
    } else {
      this.#counts.rtpPacketsReceived++;
      this.#counts.rtpBytesReceived += wireLength;
      this.#emitPacket('rtp', clear);
    }
  }

  // --- DTLS --------------------------------------------------------------------------------

  #scheduleDtls(): void {
    const at = this.#dtls?.nextTimeout();
    if (at === undefined || this.#isOver()) {
      clearTimeout(this.#dtlsTimer);
      this.#dtlsTimer = undefined;
      this.#dtlsTimerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#dtlsTimer !== undefined && this.#dtlsTimerAt === at) return;
    clearTimeout(this.#dtlsTimer);
    this.#dtlsTimerAt = at;
    this.#dtlsTimer = setTimeout(
      () => {
        this.#dtlsTimer = undefined;
        this.#dtlsTimerAt = Number.POSITIVE_INFINITY;
        this.#dtls?.handleTimeout(this.#now());
        this.#scheduleDtls();
      },
      Math.max(0, at - this.#now()),
    );
    this.#dtlsTimer.unref();
  }

  #onDtlsConnected(): void {
    const dtls = this.#dtls;
    if (dtls === undefined || this.#isOver()) return;
    const srtp = SrtpTransport.fromDtls(dtls, dtls.role, {
      replayWindow: this.options.replayWindow,
      maxStreams: this.options.maxSrtpStreams,
    });
    if (srtp === undefined) {
      this.#end('failed', { reason: 'no-srtp-profile' });
      return;
    }
    this.#srtp = srtp;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#setState('connected');
    this.#emit('connected');
  }

  #onDtlsClosed(why: DtlsCloseReason): void {
    if (why.error === undefined) this.#end('closed', { reason: 'dtls-closed', dtls: why });
    else this.#end('failed', { reason: 'dtls-failed', dtls: why });
  }

  // --- lifecycle -----------------------------------------------------------------------------

  #end(state: 'failed' | 'closed', reason: WebRtcCloseReason): void {
    if (this.#isOver()) return;
    this.#closeReason = reason;
    this.#setState(state);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#dtlsTimer);
    this.#connectTimer = undefined;
    this.#dtlsTimer = undefined;
    this.#srtp?.close();
    this.#srtp = undefined;
    // close_notify goes out while the ICE session can still send it.
    this.#dtls?.close();
    this.#session.close();
    this.#logger.info(
      { ufrag: this.localUfrag, reason: reason.reason, dtls: reason.dtls },
      `webrtc endpoint ${state}`,
    );
    this.#emit('closed', reason);
  }

  #isOver(): boolean {
    return this.#state === 'closed' || this.#state === 'failed';
  }

  #setState(state: WebRtcState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', state);
  }

  #sendFailed(): false {
    this.#counts.sendFailures++;
    return false;
  }

  #drop(reason: WebRtcDropReason): void {
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1);
    this.#dropped++;
    if (this.#logger.isLevelEnabled?.('debug') ?? true) {
      this.#logger.debug({ reason, ufrag: this.localUfrag }, 'webrtc drop');
    }
  }

  /** `#emit` for the per-packet events, without its rest-argument array. */
  #emitPacket(event: 'rtp' | 'rtcp', packet: Buffer): void {
    try {
      this.emit(event, packet);
    } catch (err) {
      this.#logger.warn({ err, event, ufrag: this.localUfrag }, 'webrtc listener threw');
    }
  }

  /** Emits without letting a listener's exception escape into the mux's receive path. */
  #emit<K extends keyof WebRtcEndpointEvents>(event: K, ...args: WebRtcEndpointEvents[K]): void {
    try {
      this.emit(event as keyof WebRtcEndpointEvents, ...args);
    } catch (err) {
      this.#logger.warn({ err, event, ufrag: this.localUfrag }, 'webrtc listener threw');
    }
  }
}
