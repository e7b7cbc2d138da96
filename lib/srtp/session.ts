import { type SrtpError, SrtpErrors } from './errors.js';
import {
  checkMasterKeys,
  deriveSessionKeys,
  type SessionKeySet,
  type SrtpKeys,
} from './key-derivation.js';
import { profileParameters, type SrtpProfileName } from './profiles.js';
import { estimateIndex, ReplayWindow } from './replay-window.js';
import { readUint32, type SrtpTransform } from './transform.js';
import { AesCmHmacTransform } from './transform-cm.js';
import { AesGcmTransform } from './transform-gcm.js';

export interface SrtpSessionOptions {
  profile: SrtpProfileName;
  /** Master key and salt (RFC 3711 §4.3), e.g. one half of `keysFromDtlsExport`. */
  keys: SrtpKeys;
  /**
   * Replay window in packets, per SSRC, for SRTP and SRTCP alike (RFC 3711 §3.3.2). Defaults
   * to 64; raise it (1024 and up) for video that reorders. 1 to 32768.
   */
  replayWindow?: number;
  /** Most SSRCs tracked per direction and packet kind. Defaults to 1024. */
  maxStreams?: number;
  /**
   * Let protectRtp seal an index it already sealed (a retransmission of the very same
   * packet). Defaults to false: reusing an index with other content reuses the AES-CM
   * keystream or, worse, the GCM nonce, so the sender refuses it with `replayed`, as libsrtp
   * does unless `allow_repeat_tx`. Indices older than the window are refused either way.
   */
  allowRepeatTx?: boolean;
}

export const DEFAULT_REPLAY_WINDOW = 64;
export const DEFAULT_MAX_STREAMS = 1024;
const MAX_REPLAY_WINDOW = 32768;
const RTP_HEADER = 12;
const RTCP_HEADER = 8;

/**
 * One SRTP/SRTCP crypto session: one profile and master key, any number of SSRCs. Protect
 * with the local keys and unprotect with the remote keys, typically in two sessions; one
 * session can also do both, since outbound and inbound stream state are kept apart.
 *
 * Every method works in place when `out === packet` (otherwise `out` must not overlap
 * `packet`), returns the resulting length or an `SrtpError`, and never throws on packet
 * contents (only on API misuse: TypeError). MKIs are not supported (WebRTC sends none).
 * Per-SSRC state (rollover counter, replay window, SRTCP index) is created on the first
 * packet of an SSRC and, on receive, changed only after the packet authenticated.
 */
export class SrtpSession {
  readonly profile: SrtpProfileName;
  readonly replayWindow: number;
  readonly maxStreams: number;
  readonly allowRepeatTx: boolean;
  private readonly transform: SrtpTransform;
  /** SRTP indices sent, per SSRC: the ROC source, and the guard against index reuse. */
  private readonly sentRtp = new Map<number, ReplayWindow>();
  private readonly receivedRtp = new Map<number, ReplayWindow>();
  /** Next SRTCP index to send, per SSRC. */
  private readonly sentRtcp = new Map<number, number>();
  private readonly receivedRtcp = new Map<number, ReplayWindow>();

  /** `sessionKeys` is for `fromSessionKeys` only: when given, `options.keys` is not used. */
  constructor(options: SrtpSessionOptions, sessionKeys?: SessionKeySet) {
    const p = profileParameters(options.profile);
    if (sessionKeys === undefined) checkMasterKeys(options.profile, options.keys);
    this.profile = p.name;
    this.replayWindow = options.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    if (
      !Number.isInteger(this.replayWindow) ||
      this.replayWindow < 1 ||
      this.replayWindow > MAX_REPLAY_WINDOW
    ) {
      throw new TypeError(`replayWindow must be an integer from 1 to ${MAX_REPLAY_WINDOW}`);
    }
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    if (!Number.isInteger(this.maxStreams) || this.maxStreams < 1) {
      throw new TypeError('maxStreams must be a positive integer');
    }
    this.allowRepeatTx = options.allowRepeatTx ?? false;
    const keys = sessionKeys ?? deriveSessionKeys(p.name, options.keys);
    this.transform = p.aead ? new AesGcmTransform(p, keys) : new AesCmHmacTransform(p, keys);
  }

  /**
   * A session over already-derived session keys, bypassing key derivation: for the RFC 7714
   * test vectors, which are stated below the KDF.
   */
  static fromSessionKeys(
    profile: SrtpProfileName,
    sessionKeys: SessionKeySet,
    options: Omit<SrtpSessionOptions, 'profile' | 'keys'> = {},
  ): SrtpSession {
    const none = { masterKey: Buffer.alloc(0), masterSalt: Buffer.alloc(0) };
    return new SrtpSession({ ...options, profile, keys: none }, sessionKeys);
  }

  /**
   * Frees the keys' GHASH tables (WebAssembly linear memory with GcmGhash); idempotent. The
   * session must not be used afterwards.
   */
  close(): void {
    this.transform.close();
  }

  /** Bytes protectRtp adds to a packet. */
  get rtpOverhead(): number {
    return this.transform.rtpOverhead;
  }

  /** Bytes protectRtcp adds to a packet. */
  get rtcpOverhead(): number {
    return this.transform.rtcpOverhead;
  }

  /** Encrypts and tags the RTP packet `packet[0, length)` into `out`; returns its new length. */
  protectRtp(packet: Uint8Array, length: number, out: Uint8Array): number | SrtpError {
    checkBuffers(packet, length, out, length + this.transform.rtpOverhead);
    if (length < RTP_HEADER) return SrtpErrors.tooShort;
    const headerLength = rtpHeaderLength(packet, length);
    if (headerLength < 0) return SrtpErrors.badHeader;
    const ssrc = readUint32(packet, 8);
    const window = this.sentRtp.get(ssrc);
    const index = estimateIndex(window?.highest ?? -1, seqOf(packet));
    if (index < 0) return SrtpErrors.replayed;
    if (window !== undefined && !window.check(index)) {
      if (!this.allowRepeatTx || window.highest - index >= window.size) return SrtpErrors.replayed;
    }
    const committed = window ?? this.newWindow(this.sentRtp, ssrc);
    if (committed === undefined) return SrtpErrors.streamLimit;
    const n = this.transform.protectRtp(packet, headerLength, length, ssrc, index, out);
    committed.accept(index);
    return n;
  }

  /** Authenticates and decrypts the SRTP packet `packet[0, length)` into `out`. */
  unprotectRtp(packet: Uint8Array, length: number, out: Uint8Array): number | SrtpError {
    const overhead = this.transform.rtpOverhead;
    checkBuffers(packet, length, out, length - overhead);
    if (length < RTP_HEADER + overhead) return SrtpErrors.tooShort;
    const headerLength = rtpHeaderLength(packet, length - overhead);
    if (headerLength < 0) return SrtpErrors.badHeader;
    const ssrc = readUint32(packet, 8);
    const window = this.receivedRtp.get(ssrc);
    const index = estimateIndex(window?.highest ?? -1, seqOf(packet));
    if (index < 0 || (window !== undefined && !window.check(index))) return SrtpErrors.replayed;
    const n = this.transform.unprotectRtp(packet, headerLength, length, ssrc, index, out);
    if (n < 0) return SrtpErrors.authFailed;
    const committed = window ?? this.newWindow(this.receivedRtp, ssrc);
    if (committed === undefined) return SrtpErrors.streamLimit;
    committed.accept(index);
    return n;
  }

  /** Encrypts and tags the (compound) RTCP packet `packet[0, length)` into `out`. */
  protectRtcp(packet: Uint8Array, length: number, out: Uint8Array): number | SrtpError {
    checkBuffers(packet, length, out, length + this.transform.rtcpOverhead);
    if (length < RTCP_HEADER) return SrtpErrors.tooShort;
    if ((packet[0] ?? 0) >>> 6 !== 2) return SrtpErrors.badHeader;
    const ssrc = readUint32(packet, 4);
    const index = this.sentRtcp.get(ssrc);
    if (index === undefined && this.sentRtcp.size >= this.maxStreams) {
      return SrtpErrors.streamLimit;
    }
    const n = this.transform.protectRtcp(packet, length, ssrc, index ?? 0, out);
    // RFC 3711 §3.4: the index starts at 0 and counts modulo 2^31.
    this.sentRtcp.set(ssrc, ((index ?? 0) + 1) & 0x7fffffff);
    return n;
  }

  /** Authenticates and (when its E flag is set) decrypts an SRTCP packet into `out`. */
  unprotectRtcp(packet: Uint8Array, length: number, out: Uint8Array): number | SrtpError {
    const overhead = this.transform.rtcpOverhead;
    checkBuffers(packet, length, out, length - overhead);
    if (length < RTCP_HEADER + overhead) return SrtpErrors.tooShort;
    if ((packet[0] ?? 0) >>> 6 !== 2) return SrtpErrors.badHeader;
    const ssrc = readUint32(packet, 4);
    const word = readUint32(packet, length - this.transform.rtcpIndexFromEnd);
    const index = word & 0x7fffffff;
    const window = this.receivedRtcp.get(ssrc);
    if (window !== undefined && !window.check(index)) return SrtpErrors.replayed;
    const encrypted = word >>> 31 === 1;
    const n = this.transform.unprotectRtcp(packet, length, ssrc, index, encrypted, out);
    if (n < 0) return SrtpErrors.authFailed;
    const committed = window ?? this.newWindow(this.receivedRtcp, ssrc);
    if (committed === undefined) return SrtpErrors.streamLimit;
    committed.accept(index);
    return n;
  }

  /**
   * Forgets every state kept for `ssrc` (ROC, replay windows, SRTCP index), e.g. after an
   * RTCP BYE, so its slot counts no more against `maxStreams`. Returns whether any existed.
   */
  deleteStream(ssrc: number): boolean {
    const maps = [this.sentRtp, this.receivedRtp, this.sentRtcp, this.receivedRtcp];
    let found = false;
    for (const m of maps) found = m.delete(ssrc >>> 0) || found;
    return found;
  }

  private newWindow(map: Map<number, ReplayWindow>, ssrc: number): ReplayWindow | undefined {
    if (map.size >= this.maxStreams) return undefined;
    const w = new ReplayWindow(this.replayWindow);
    map.set(ssrc, w);
    return w;
  }
}

function checkBuffers(packet: Uint8Array, length: number, out: Uint8Array, need: number): void {
  if (!(packet instanceof Uint8Array) || !(out instanceof Uint8Array)) {
    throw new TypeError('packet and out must be Uint8Arrays');
  }
  if (!Number.isInteger(length) || length < 0 || length > packet.length) {
    throw new TypeError('length must be an integer within packet');
  }
  if (out.length < need) throw new TypeError(`out needs room for ${need} bytes`);
}

function seqOf(packet: Uint8Array): number {
  return ((packet[2] ?? 0) << 8) | (packet[3] ?? 0);
}

/**
 * Bytes of RTP header (fixed part, CSRCs, header extension) in `packet[0, length)`, or -1
 * when it is not version 2 or its fields overrun `length` (RFC 3550 §5.1, §5.3.1).
 */
export function rtpHeaderLength(packet: Uint8Array, length: number): number {
  const b0 = packet[0] ?? 0;
  if (b0 >>> 6 !== 2) return -1;
  let h = RTP_HEADER + 4 * (b0 & 0x0f);
  if ((b0 & 0x10) !== 0) {
    if (h + 4 > length) return -1;
    h += 4 + 4 * (((packet[h + 2] ?? 0) << 8) | (packet[h + 3] ?? 0));
  }
  return h > length ? -1 : h;
}
