import { SRTP_EXPORTER_LABEL } from '../dtls/srtp-keys.js';
import { isRtcp } from '../ice/demux.js';
import { dtlsExportLength, keysFromDtlsExport } from '../srtp/dtls-keys.js';
import { isSrtpError, type SrtpErrorCode } from '../srtp/errors.js';
import { profileById, type SrtpProfileName } from '../srtp/profiles.js';
import { SrtpSession } from '../srtp/session.js';
import { packetSlab } from '../util/packet-slab.js';

/** Why an SRTP or SRTCP packet from the peer was dropped: `srtp-<code>` / `srtcp-<code>`. */
export type SrtpDropReason = `srtp-${SrtpErrorCode}` | `srtcp-${SrtpErrorCode}`;

/** What unprotecting one datagram of class `rtp` gave. */
export type UnprotectResult =
  | { kind: 'rtp' | 'rtcp'; packet: Buffer }
  | { kind: 'drop'; reason: SrtpDropReason };

/** What `SrtpTransport.fromDtls` needs of a connected DTLS connection. */
export interface DtlsKeyingSource {
  readonly srtpProfile: number | undefined;
  exportKeyingMaterial(label: string, length: number): Buffer;
}

/**
 * The SRTP/SRTCP contexts of one DTLS-SRTP association (RFC 5764), sans-IO: a protect
 * context keyed with our write keys and an unprotect context keyed with the peer's. RTP and
 * RTCP share the port (rtcp-mux, RFC 5761 §4): a packet is RTCP when its second byte is in
 * 192–223.
 */
export class SrtpTransport {
  readonly profile: SrtpProfileName;
  readonly #tx: SrtpSession;
  readonly #rx: SrtpSession;

  constructor(
    profile: SrtpProfileName,
    material: Buffer,
    role: 'client' | 'server',
    o: { replayWindow: number; maxStreams: number },
  ) {
    // RFC 5764 §4.2: the client protects with the client write key, the server with the
    // server's; keysFromDtlsExport picks ours (`local`) and the peer's (`remote`) by role.
    const { local, remote } = keysFromDtlsExport(profile, material, role);
    this.profile = profile;
    const common = { profile, replayWindow: o.replayWindow, maxStreams: o.maxStreams };
    this.#tx = new SrtpSession({ ...common, keys: local });
    this.#rx = new SrtpSession({ ...common, keys: remote });
  }

  /**
   * Keys from the DTLS exporter (label "EXTRACTOR-dtls_srtp", RFC 5764 §4.2) for the profile
   * the handshake negotiated; undefined when use_srtp chose none that lib/srtp implements.
   */
  static fromDtls(
    dtls: DtlsKeyingSource,
    role: 'client' | 'server',
    o: { replayWindow: number; maxStreams: number },
  ): SrtpTransport | undefined {
    const id = dtls.srtpProfile;
    const profile = id === undefined ? undefined : profileById(id);
    if (profile === undefined) return undefined;
    const material = dtls.exportKeyingMaterial(SRTP_EXPORTER_LABEL, dtlsExportLength(profile));
    return new SrtpTransport(profile, material, role, o);
  }

  /** Frees both sessions' key state (their GHASH tables); idempotent. */
  close(): void {
    this.#tx.close();
    this.#rx.close();
  }

  /** Bytes protecting adds to an RTP packet. */
  get rtpOverhead(): number {
    return this.#tx.rtpOverhead;
  }

  /** Bytes protecting adds to an RTCP packet. */
  get rtcpOverhead(): number {
    return this.#tx.rtcpOverhead;
  }

  /**
   * Authenticates and decrypts `datagram` in place; the result is a view of it. Never throws
   * on its content.
   */
  unprotect(datagram: Buffer): UnprotectResult {
    const n = this.unprotectInPlace(datagram);
    if (typeof n === 'string') return { kind: 'drop', reason: n };
    return { kind: isRtcp(datagram) ? 'rtcp' : 'rtp', packet: datagram.subarray(0, n) };
  }

  /**
   * `unprotect` without a result object (the receive path's per-packet garbage): decrypts
   * `datagram` in place and returns the clear packet's length, its first bytes, or why it was
   * dropped. RTCP or RTP is `isRtcp(datagram)` (its header stays clear).
   */
  unprotectInPlace(datagram: Buffer): number | SrtpDropReason {
    return isRtcp(datagram)
      ? this.unprotectRtcpInPlace(datagram)
      : this.unprotectRtpInPlace(datagram);
  }

  /** `unprotectInPlace` for a datagram the caller already knows is SRTP (not SRTCP). */
  unprotectRtpInPlace(datagram: Buffer): number | SrtpDropReason {
    const n = this.#rx.unprotectRtp(datagram, datagram.length, datagram);
    return isSrtpError(n) ? `srtp-${n.error}` : n;
  }

  /** `unprotectInPlace` for a datagram the caller already knows is SRTCP. */
  unprotectRtcpInPlace(datagram: Buffer): number | SrtpDropReason {
    const n = this.#rx.unprotectRtcp(datagram, datagram.length, datagram);
    return isSrtpError(n) ? `srtcp-${n.error}` : n;
  }

  /**
   * A new buffer holding the first `length` bytes of `packet` (default all) protected as SRTP,
   * or the reason it was refused. The buffer comes from the shared packet slab (one
   * ArrayBuffer per ~50 packets, not per 6).
   */
  protectRtp(packet: Uint8Array, length = packet.length): Buffer | SrtpErrorCode {
    const out = packetSlab.take(length + this.#tx.rtpOverhead);
    const n = this.protectRtpInto(packet, length, out);
    if (typeof n === 'string') return n;
    return n === out.length ? out : out.subarray(0, n);
  }

  /**
   * Protects the first `length` bytes of `packet` as SRTP into `out` (at least `length +
   * rtpOverhead` bytes, not overlapping `packet`); returns the protected length or the reason
   * it was refused.
   */
  protectRtpInto(packet: Uint8Array, length: number, out: Uint8Array): number | SrtpErrorCode {
    const n = this.#tx.protectRtp(packet, length, out);
    return isSrtpError(n) ? n.error : n;
  }

  /** A new buffer holding the (compound) RTCP `packet` protected as SRTCP. */
  protectRtcp(packet: Uint8Array): Buffer | SrtpErrorCode {
    const out = Buffer.allocUnsafe(packet.length + this.#tx.rtcpOverhead);
    const n = this.protectRtcpInto(packet, out);
    return typeof n === 'string' ? n : out.subarray(0, n);
  }

  /** `protectRtcp` into `out` (at least `packet.length + rtcpOverhead` bytes, not overlapping). */
  protectRtcpInto(packet: Uint8Array, out: Uint8Array): number | SrtpErrorCode {
    const n = this.#tx.protectRtcp(packet, packet.length, out);
    return isSrtpError(n) ? n.error : n;
  }
}
