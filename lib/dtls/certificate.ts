/**
 * DTLS certificates for WebRTC: self-signed ECDSA P-256 certificates (what browsers generate
 * for RTCPeerConnection), loading a PEM certificate and key (EC or RSA), and fingerprints in
 * the SDP `a=fingerprint` form (RFC 8122 §5: hash name, then uppercase hex pairs with colons).
 *
 * Generation uses @peculiar/x509 over node's WebCrypto and is loaded on first use, so code that
 * only loads certificates or compares fingerprints never pulls it in.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  KeyObject,
  randomBytes,
  timingSafeEqual,
  webcrypto,
  X509Certificate,
} from 'node:crypto';

export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

export const FINGERPRINT_ALGORITHMS: readonly FingerprintAlgorithm[] = Object.freeze([
  'sha-1',
  'sha-224',
  'sha-256',
  'sha-384',
  'sha-512',
]);

const DIGEST_LENGTH: Readonly<Record<FingerprintAlgorithm, number>> = {
  'sha-1': 20,
  'sha-224': 28,
  'sha-256': 32,
  'sha-384': 48,
  'sha-512': 64,
};

export interface DtlsCertificate {
  /** The certificate, DER. Sent in the Certificate message. */
  readonly der: Buffer;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SDP form of the fingerprint, 'AB:CD:…' uppercase; default algorithm sha-256. */
  fingerprint(algorithm?: FingerprintAlgorithm): string;
}

export interface GenerateCertificateOptions {
  /** Subject and issuer common name. Default 'rtcd'. */
  commonName?: string;
  /** Days from `notBefore` until the certificate expires. Default 30 (as Chromium does). */
  validityDays?: number;
  /** Start of validity. Default: one day before now, to tolerate peers' clock skew. */
  notBefore?: Date;
}

const DAY_MS = 86_400_000;

class Certificate implements DtlsCertificate {
  private readonly fingerprints = new Map<FingerprintAlgorithm, string>();

  constructor(
    readonly der: Buffer,
    readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
  ) {}

  fingerprint(algorithm: FingerprintAlgorithm = 'sha-256'): string {
    let fp = this.fingerprints.get(algorithm);
    if (fp === undefined) {
      fp = certificateFingerprint(this.der, algorithm);
      this.fingerprints.set(algorithm, fp);
    }
    return fp;
  }
}

/** A random positive serial number of 16 bytes, as hex with no leading zero byte. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x01 + (b[0]! % 0x7f);
  return b.toString('hex');
}

/**
 * A fresh self-signed ECDSA P-256 certificate (signature ecdsa-with-SHA256) with a random
 * serial number. Reuse it across connections: generating one costs a few milliseconds.
 */
export async function generateCertificate(
  opts: GenerateCertificateOptions = {},
): Promise<DtlsCertificate> {
  const commonName = opts.commonName ?? 'rtcd';
  const validityDays = opts.validityDays ?? 30;
  if (typeof commonName !== 'string' || commonName.length === 0) {
    throw new TypeError('commonName must be a non-empty string');
  }
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new TypeError(`validityDays must be a positive number, got ${validityDays}`);
  }
  const notBefore = opts.notBefore ?? new Date(Date.now() - DAY_MS);
  if (!(notBefore instanceof Date) || Number.isNaN(notBefore.getTime())) {
    throw new TypeError('notBefore must be a valid Date');
  }
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [commonName] }],
      notBefore,
      notAfter: new Date(notBefore.getTime() + validityDays * DAY_MS),
      signingAlgorithm: alg,
      keys,
    },
    webcrypto,
  );
  const der = Buffer.from(cert.rawData);
  const privateKey = KeyObject.from(keys.privateKey);
  return new Certificate(der, privateKey, new X509Certificate(der).publicKey);
}

/**
 * A certificate and its private key from PEM (the key as PKCS#8, SEC1 "EC PRIVATE KEY" or
 * PKCS#1 "RSA PRIVATE KEY"). The first certificate in `certPem` is used. Throws TypeError if
 * either does not parse or the key does not belong to the certificate.
 */
export function loadCertificate(certPem: string, keyPem: string): DtlsCertificate {
  let x509: X509Certificate;
  let privateKey: KeyObject;
  try {
    x509 = new X509Certificate(certPem);
  } catch (cause) {
    throw new TypeError('certificate PEM does not parse', { cause });
  }
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (cause) {
    throw new TypeError('private key PEM does not parse (encrypted keys are not supported)', {
      cause,
    });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TypeError('the private key does not match the certificate');
  }
  return new Certificate(Buffer.from(x509.raw), privateKey, x509.publicKey);
}

/** Fingerprint of a DER certificate in SDP form: uppercase hex pairs joined by ':'. */
export function certificateFingerprint(der: Buffer, algorithm: FingerprintAlgorithm): string {
  if (DIGEST_LENGTH[algorithm] === undefined) {
    throw new TypeError(`unknown fingerprint algorithm ${String(algorithm)}`);
  }
  const hex = createHash(algorithm.replace('-', '')).update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/**
 * Parses the value of an SDP `a=fingerprint:` attribute, e.g. 'sha-256 AB:CD:…'. The hash
 * name is case-insensitive (RFC 8122 §5); the result's `hex` is normalized to the form
 * certificateFingerprint returns. Undefined for unknown hashes or malformed/mis-sized hex.
 */
export function parseSdpFingerprint(
  value: string,
): { algorithm: FingerprintAlgorithm; hex: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\S+)\s+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*)\s*$/.exec(value);
  if (m === null) return undefined;
  const name = m[1]!.toLowerCase();
  const algorithm = FINGERPRINT_ALGORITHMS.find((a) => a === name);
  const hex = m[2]!.toUpperCase();
  if (algorithm === undefined || hex.length !== DIGEST_LENGTH[algorithm] * 3 - 1) return undefined;
  return { algorithm, hex };
}

/**
 * True iff `der`'s fingerprint under `algorithm` equals `expected` (SDP form, any case).
 * The comparison does not leak where the first difference is.
 */
export function fingerprintMatches(
  der: Buffer,
  algorithm: FingerprintAlgorithm,
  expected: string,
): boolean {
  if (DIGEST_LENGTH[algorithm] === undefined || typeof expected !== 'string') return false;
  const a = Buffer.from(certificateFingerprint(der, algorithm));
  const b = Buffer.from(expected.toUpperCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The subject public key of a DER certificate; undefined if it does not parse. EC keys on
 * P-256 and P-384 (what WebRTC peers use) are read by a short DER walk to the
 * SubjectPublicKeyInfo and imported as JWK, which is ~40% cheaper than node's full X.509
 * parse; any other key, or anything the walk does not recognize, goes through X509Certificate.
 */
export function publicKeyOf(der: Buffer): KeyObject | undefined {
  try {
    return ecPublicKeyOf(der) ?? new X509Certificate(der).publicKey;
  } catch {
    return undefined;
  }
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** One DER TLV at `offset` (single-byte tag, definite length); undefined if malformed. */
function tlv(b: Buffer, offset: number, limit: number): Tlv | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = b[offset]!;
  let len = b[offset + 1]!;
  let start = offset + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  const end = start + len;
  return end > limit ? undefined : { tag, start, end };
}

const OID_EC_PUBLIC_KEY = Buffer.from('2a8648ce3d0201', 'hex');
const EC_CURVES = [
  { oid: Buffer.from('2a8648ce3d030107', 'hex'), crv: 'P-256', pointLength: 65 },
  { oid: Buffer.from('2b81040022', 'hex'), crv: 'P-384', pointLength: 97 },
];

/** Certificate → tbsCertificate → subjectPublicKeyInfo, if it is a P-256/P-384 EC key. */
function ecPublicKeyOf(der: Buffer): KeyObject | undefined {
  const cert = tlv(der, 0, der.length);
  if (cert?.tag !== 0x30 || cert.end !== der.length) return undefined;
  const tbs = tlv(der, cert.start, cert.end);
  if (tbs?.tag !== 0x30) return undefined;
  let p = tbs.start;
  // [0] version (optional), serialNumber, signature, issuer, validity, subject
  const expected = [0xa0, 0x02, 0x30, 0x30, 0x30, 0x30];
  for (let i = 0; i < expected.length; i++) {
    const f = tlv(der, p, tbs.end);
    if (f === undefined) return undefined;
    if (f.tag !== expected[i]) {
      if (i === 0) continue; // no version field: v1 certificate
      return undefined;
    }
    p = f.end;
  }
  const spki = tlv(der, p, tbs.end);
  const alg = spki?.tag === 0x30 ? tlv(der, spki.start, spki.end) : undefined;
  if (spki === undefined || alg?.tag !== 0x30) return undefined;
  const algOid = tlv(der, alg.start, alg.end);
  const curveOid = algOid?.tag === 0x06 ? tlv(der, algOid.end, alg.end) : undefined;
  if (algOid === undefined || curveOid?.tag !== 0x06 || curveOid.end !== alg.end) return undefined;
  if (!der.subarray(algOid.start, algOid.end).equals(OID_EC_PUBLIC_KEY)) return undefined;
  const oid = der.subarray(curveOid.start, curveOid.end);
  const curve = EC_CURVES.find((c) => c.oid.equals(oid));
  const bits = tlv(der, alg.end, spki.end);
  if (curve === undefined || bits?.tag !== 0x03 || bits.end !== spki.end) return undefined;
  const point = der.subarray(bits.start + 1, bits.end);
  if (der[bits.start] !== 0 || point.length !== curve.pointLength || point[0] !== 4) {
    return undefined;
  }
  const n = (curve.pointLength - 1) / 2;
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: curve.crv,
      x: point.subarray(1, 1 + n).toString('base64url'),
      y: point.subarray(1 + n).toString('base64url'),
    },
    format: 'jwk',
  });
}
