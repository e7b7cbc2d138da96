import type { DtlsCertificate } from '../dtls/certificate.js';
import type { RemoteFingerprint } from '../dtls/options.js';
import type { IceLiteMux } from '../ice/udp-mux.js';
import { profileParameters, type SrtpProfileName } from '../srtp/profiles.js';
import type { Logger } from '../util/logger.js';

/** The SDP `a=setup` values (RFC 8842 §5: `holdconn` is not used by WebRTC). */
export type DtlsSetup = 'actpass' | 'active' | 'passive';

/** What the peer's offer or answer says about its transport (one BUNDLE group). */
export interface WebRtcRemoteParameters {
  /** The peer's `a=ice-ufrag`: checks naming another one are refused. */
  iceUfrag: string;
  /** The peer's `a=ice-pwd` (a lite agent sends no checks; kept for the caller). */
  icePwd?: string;
  /** The peer's `a=setup`. `actpass` (an offer) is answered `passive`: the peer is DTLS client. */
  setup: DtlsSetup;
  /** The peer's `a=fingerprint` values; its certificate must match one (RFC 8122 §5). */
  fingerprints: readonly RemoteFingerprint[];
}

/**
 * Options of one `WebRtcEndpoint`. Validated once in the constructor (`WebRtcOptionsError`,
 * code `WEBRTC_BAD_OPTION`, naming the option). Every limit is finite by default.
 */
export interface WebRtcEndpointOptions {
  /** The shared ICE-lite UDP port; the endpoint creates its own session on it. */
  mux: IceLiteMux;
  /** Our DTLS certificate, reused across endpoints (its fingerprint goes in our SDP). */
  certificate: DtlsCertificate;
  /**
   * The peer's transport parameters, when its offer is already known. Default: none yet;
   * call `setRemoteParameters` once the answer arrives (DTLS waits until then).
   */
  remote?: WebRtcRemoteParameters;
  /** Our ICE ufrag (4..256 ice-chars, unique in the mux). Default: 8 random ice-chars. */
  localUfrag?: string;
  /** Our ICE password (22..256 ice-chars). Default: 24 random ice-chars. */
  localPwd?: string;
  /**
   * SRTP protection profiles offered or accepted in DTLS use_srtp, our preference first.
   * Default: AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES_CM_128_HMAC_SHA1_80,
   * AES_CM_128_HMAC_SHA1_32 (the order libwebrtc prefers too).
   */
  srtpProfiles?: readonly SrtpProfileName[];
  /**
   * SRTP/SRTCP replay window per SSRC, packets (RFC 3711 §3.3.2). Default `512`: video
   * retransmissions and pacer bursts reorder by hundreds of packets; the RFC's 64 drops them.
   */
  replayWindow?: number;
  /**
   * Our DTLS role when the peer offers `actpass` (RFC 8842 §5.3 lets the answerer choose).
   * Default `'server'` (we answer `passive`: the browser sends the first flight, and we keep
   * no retransmission state before its ClientHello). `'client'` answers `active`.
   */
  preferredDtlsRole?: 'client' | 'server';
  /** SSRCs tracked per direction by the SRTP contexts. Default `64`. */
  maxSrtpStreams?: number;
  /**
   * ICE nomination and the DTLS handshake must both complete within this time from
   * construction, or the endpoint fails with `connect-timeout`. Default `30_000` ms.
   */
  connectTimeoutMs?: number;
  /** Largest DTLS datagram we send, bytes. Default `1200` (as lib/dtls). */
  dtlsMtu?: number;
  /** Where debug logs of drops and info logs of state changes go. Default: the mux's logger. */
  logger?: Logger;
  /** The clock, ms (injectable for tests). Default `performance.now()`. */
  now?: () => number;
}

export interface ResolvedWebRtcOptions {
  preferredDtlsRole: 'client' | 'server';
  srtpProfiles: readonly SrtpProfileName[];
  replayWindow: number;
  maxSrtpStreams: number;
  connectTimeoutMs: number;
  dtlsMtu: number;
}

export const WEBRTC_DEFAULTS = {
  srtpProfiles: Object.freeze([
    'AEAD_AES_128_GCM',
    'AEAD_AES_256_GCM',
    'AES_CM_128_HMAC_SHA1_80',
    'AES_CM_128_HMAC_SHA1_32',
  ] as const satisfies readonly SrtpProfileName[]),
  replayWindow: 512,
  maxSrtpStreams: 64,
  connectTimeoutMs: 30_000,
  dtlsMtu: 1200,
} as const;

export class WebRtcOptionsError extends TypeError {
  readonly code = 'WEBRTC_BAD_OPTION';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
    this.name = 'WebRtcOptionsError';
  }
}

function integer(name: string, v: number | undefined, min: number, max: number, d: number) {
  const value = v ?? d;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new WebRtcOptionsError(name, `must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return value;
}

/** Validates the numeric and list options and fills in the defaults. */
export function resolveWebRtcOptions(o: WebRtcEndpointOptions): ResolvedWebRtcOptions {
  if (o === null || typeof o !== 'object') throw new WebRtcOptionsError('options', 'not an object');
  const profiles = o.srtpProfiles ?? WEBRTC_DEFAULTS.srtpProfiles;
  if (!Array.isArray(profiles) || profiles.length === 0) {
    throw new WebRtcOptionsError('srtpProfiles', 'must be a non-empty array');
  }
  for (const p of profiles) {
    try {
      profileParameters(p);
    } catch {
      throw new WebRtcOptionsError('srtpProfiles', `unknown profile ${String(p)}`);
    }
  }
  const role = o.preferredDtlsRole ?? 'server';
  if (role !== 'client' && role !== 'server') {
    throw new WebRtcOptionsError('preferredDtlsRole', "must be 'client' or 'server'");
  }
  return {
    preferredDtlsRole: role,
    srtpProfiles: [...profiles],
    replayWindow: integer('replayWindow', o.replayWindow, 1, 32768, WEBRTC_DEFAULTS.replayWindow),
    maxSrtpStreams: integer(
      'maxSrtpStreams',
      o.maxSrtpStreams,
      1,
      65536,
      WEBRTC_DEFAULTS.maxSrtpStreams,
    ),
    connectTimeoutMs: integer(
      'connectTimeoutMs',
      o.connectTimeoutMs,
      1,
      3_600_000,
      WEBRTC_DEFAULTS.connectTimeoutMs,
    ),
    dtlsMtu: integer('dtlsMtu', o.dtlsMtu, 256, 65507, WEBRTC_DEFAULTS.dtlsMtu),
  };
}

/** Checks the peer's parameters (a malformed offer must leave no state behind). */
export function checkRemoteParameters(r: WebRtcRemoteParameters): void {
  if (r === null || typeof r !== 'object') {
    throw new WebRtcOptionsError('remote', 'must be an object');
  }
  if (typeof r.iceUfrag !== 'string' || r.iceUfrag.length === 0) {
    throw new WebRtcOptionsError('remote.iceUfrag', 'must be a non-empty string');
  }
  if (r.setup !== 'actpass' && r.setup !== 'active' && r.setup !== 'passive') {
    throw new WebRtcOptionsError('remote.setup', "must be 'actpass', 'active' or 'passive'");
  }
  if (!Array.isArray(r.fingerprints) || r.fingerprints.length === 0) {
    // RFC 8827 §6.5: WebRTC always authenticates the DTLS peer by its fingerprint.
    throw new WebRtcOptionsError('remote.fingerprints', 'at least one fingerprint is required');
  }
}

/**
 * Our `a=setup` answering the peer's (RFC 8842 §5.3): `active` ↔ `passive`, and an offer's
 * `actpass` by the role we prefer (`passive` for a DTLS server).
 */
export function localSetupFor(
  remote: DtlsSetup,
  preferred: 'client' | 'server' = 'server',
): 'active' | 'passive' {
  if (remote === 'actpass') return preferred === 'client' ? 'active' : 'passive';
  return remote === 'passive' ? 'active' : 'passive';
}

/** The DTLS role that goes with our `a=setup` (RFC 5763 §5: active is the client). */
export function dtlsRoleFor(localSetup: 'active' | 'passive'): 'client' | 'server' {
  return localSetup === 'active' ? 'client' : 'server';
}
