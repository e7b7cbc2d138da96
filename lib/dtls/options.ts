/**
 * Options of a DTLS 1.2 connection (both roles), every default named here. Validated once by
 * `resolveDtlsOptions`, which the connection calls in its constructor (TypeError on misuse).
 */
import type { DtlsCertificate, FingerprintAlgorithm } from './certificate.js';
import { CIPHER_SUITES, cipherSuiteById } from './cipher-suites.js';
import { SUPPORTED_GROUPS } from './ecdhe.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from './signature.js';
import { DEFAULT_SRTP_PROFILES } from './srtp-keys.js';

export interface RemoteFingerprint {
  algorithm: FingerprintAlgorithm;
  /** 'AB:CD:…' as in the SDP (case-insensitive). */
  value: string;
}

export interface DtlsOptions {
  role: 'client' | 'server';
  /** Our certificate and private key (reusable across connections). */
  certificate: DtlsCertificate;
  /**
   * Expected peer certificate fingerprints (from the SDP `a=fingerprint`). When given, the
   * handshake fails with bad_certificate unless one matches. Default: no check (only for
   * tests and non-WebRTC uses: WebRTC always passes them).
   */
  remoteFingerprints?: RemoteFingerprint[];
  /**
   * SRTP protection profiles for use_srtp, our preference first. Default: AEAD_AES_128_GCM,
   * AEAD_AES_256_GCM, AES128_CM_HMAC_SHA1_80, AES128_CM_HMAC_SHA1_32. Empty: no use_srtp.
   */
  srtpProfiles?: number[];
  /** Cipher suites, our preference first. Default: all six of CIPHER_SUITES. */
  cipherSuites?: number[];
  /** ECDHE groups, our preference first. Default: X25519, P-256, P-384. */
  groups?: number[];
  /** Signature schemes we accept from the peer, preference first. Default: all four. */
  signatureSchemes?: number[];
  /** Largest datagram we send, bytes. Default 1200 (safe under any path MTU WebRTC meets). */
  mtu?: number;
  /** First retransmission timeout, ms (RFC 6347 §4.2.4.1 says 1 s; WebRTC uses less). Default 400. */
  initialRetransmitMs?: number;
  /** Ceiling of the doubling timer, ms. Default 60000 (RFC 6347 §4.2.4.1). */
  maxRetransmitMs?: number;
  /**
   * Retransmissions of one flight before the handshake fails. Default 6: at the default
   * timers the handshake gives up 51 s after the flight was first sent (0.4 + 0.8 + … + 25.6).
   */
  maxRetransmits?: number;
  /** Server: request a client certificate and fail without one. Default true (WebRTC). */
  requireClientCertificate?: boolean;
  /** Largest handshake message accepted, bytes. Default 65536. */
  maxHandshakeMessageLength?: number;
}

export interface ResolvedDtlsOptions {
  role: 'client' | 'server';
  certificate: DtlsCertificate;
  remoteFingerprints: readonly RemoteFingerprint[] | undefined;
  srtpProfiles: readonly number[];
  cipherSuites: readonly number[];
  groups: readonly number[];
  signatureSchemes: readonly number[];
  mtu: number;
  initialRetransmitMs: number;
  maxRetransmitMs: number;
  maxRetransmits: number;
  requireClientCertificate: boolean;
  maxHandshakeMessageLength: number;
}

export function resolveDtlsOptions(o: DtlsOptions): ResolvedDtlsOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('DTLS options must be an object');
  if (o.role !== 'client' && o.role !== 'server') {
    throw new TypeError("options.role must be 'client' or 'server'");
  }
  const c = o.certificate;
  if (c === undefined || !Buffer.isBuffer(c.der) || c.privateKey?.type !== 'private') {
    throw new TypeError('options.certificate must be a DtlsCertificate with its private key');
  }
  const cipherSuites = o.cipherSuites ?? CIPHER_SUITES.map((s) => s.id);
  for (const id of cipherSuites) {
    if (cipherSuiteById(id) === undefined) {
      throw new TypeError(`unsupported cipher suite 0x${id.toString(16)}`);
    }
  }
  const groups = o.groups ?? SUPPORTED_GROUPS;
  for (const g of groups) {
    if (!SUPPORTED_GROUPS.includes(g)) throw new TypeError(`unsupported group ${g}`);
  }
  const schemes = o.signatureSchemes ?? SUPPORTED_SIGNATURE_SCHEMES;
  for (const s of schemes) {
    if (!SUPPORTED_SIGNATURE_SCHEMES.includes(s)) {
      throw new TypeError(`unsupported signature scheme 0x${s.toString(16)}`);
    }
  }
  const srtpProfiles = o.srtpProfiles ?? DEFAULT_SRTP_PROFILES;
  for (const p of srtpProfiles) {
    if (!Number.isInteger(p) || p < 1 || p > 0xffff) throw new TypeError(`bad SRTP profile ${p}`);
  }
  if (cipherSuites.length === 0 || groups.length === 0 || schemes.length === 0) {
    throw new TypeError('cipherSuites, groups and signatureSchemes must not be empty');
  }
  for (const f of o.remoteFingerprints ?? []) {
    if (typeof f?.value !== 'string' || typeof f.algorithm !== 'string') {
      throw new TypeError('remoteFingerprints entries need algorithm and value');
    }
  }
  return {
    role: o.role,
    certificate: c,
    remoteFingerprints: o.remoteFingerprints,
    srtpProfiles,
    cipherSuites,
    groups,
    signatureSchemes: schemes,
    mtu: int(o.mtu, 1200, 256, 65507, 'mtu'),
    initialRetransmitMs: int(o.initialRetransmitMs, 400, 1, 60_000, 'initialRetransmitMs'),
    maxRetransmitMs: int(o.maxRetransmitMs, 60_000, 1, 600_000, 'maxRetransmitMs'),
    maxRetransmits: int(o.maxRetransmits, 6, 0, 100, 'maxRetransmits'),
    requireClientCertificate: o.requireClientCertificate ?? true,
    maxHandshakeMessageLength: int(
      o.maxHandshakeMessageLength,
      65536,
      1024,
      1 << 24,
      'maxHandshakeMessageLength',
    ),
  };
}

function int(v: number | undefined, dflt: number, min: number, max: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`options.${name} must be an integer in ${min}..${max}`);
  }
  return v;
}
