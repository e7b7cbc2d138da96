/**
 * Ephemeral elliptic-curve Diffie-Hellman for the DTLS 1.2 ECDHE key exchange (RFC 8422):
 * X25519 (RFC 7748), P-256 and P-384 with uncompressed points (the only format WebRTC peers
 * send, RFC 8422 §5.1.2). A peer's bad public value yields `undefined`, never an exception,
 * so the handshake can answer with an illegal_parameter alert.
 */
import {
  createECDH,
  createPublicKey,
  diffieHellman,
  type ECDH,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** TLS NamedGroup numbers (RFC 8422 §5.1.1, RFC 7748). */
export const NamedGroup = { secp256r1: 23, secp384r1: 24, x25519: 29 } as const;
export type NamedGroup = (typeof NamedGroup)[keyof typeof NamedGroup];

/** Groups we support, in our order of preference. */
export const SUPPORTED_GROUPS: readonly number[] = Object.freeze([
  NamedGroup.x25519,
  NamedGroup.secp256r1,
  NamedGroup.secp384r1,
]);

export interface KeyShare {
  readonly group: number;
  /** Our public value in wire form: 32 bytes (X25519) or an uncompressed point 04‖X‖Y. */
  readonly publicKey: Buffer;
  /** The shared secret (the ECDHE premaster secret), or undefined if `peer` is invalid. */
  computeSecret(peer: Buffer): Buffer | undefined;
}

const CURVES: Readonly<Record<number, { name: string; pointLength: number }>> = {
  [NamedGroup.secp256r1]: { name: 'prime256v1', pointLength: 65 },
  [NamedGroup.secp384r1]: { name: 'secp384r1', pointLength: 97 },
};

/** A fresh ephemeral key pair for `group`; TypeError if the group is not supported. */
export function generateKeyShare(group: number): KeyShare {
  if (group === NamedGroup.x25519) return x25519Share();
  const curve = CURVES[group];
  if (curve === undefined) throw new TypeError(`unsupported ECDHE group ${group}`);
  const ecdh = createECDH(curve.name);
  ecdh.generateKeys();
  return new EcdhShare(group, ecdh, curve.pointLength);
}

class EcdhShare implements KeyShare {
  readonly publicKey: Buffer;

  constructor(
    readonly group: number,
    private readonly ecdh: ECDH,
    private readonly pointLength: number,
  ) {
    this.publicKey = ecdh.getPublicKey();
  }

  computeSecret(peer: Buffer): Buffer | undefined {
    // Uncompressed form only: RFC 8422 §5.1.2 deprecates the others and no peer sends them.
    if (peer.length !== this.pointLength || peer[0] !== 0x04) return undefined;
    try {
      // OpenSSL rejects points not on the curve (and the point at infinity) here.
      return this.ecdh.computeSecret(peer);
    } catch {
      return undefined;
    }
  }
}

/** An X25519 SubjectPublicKeyInfo in DER: this 12-byte prefix, then the 32-byte key. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/*
 * Our X25519 public key leaves node:crypto as SPKI DER, never as JWK: on Node 20 a JWK export
 * of a key made by generateKeyPairSync can deadlock the process. node::crypto's
 * ExportJWKEdKey holds the key's mutex while it allocates the JWK's strings; if that
 * allocation runs a GC that collects the (garbage) key-generation job, the job's destructor
 * takes the same mutex, and the main thread waits on itself for ever. The SFU bench's SFU
 * froze that way about once in eight runs of 550 handshakes (gdb: futex wait under
 * ~KeyGenJob under ExportJWKEdKey); spec/dtls/ecdhe-deadlock.spec.ts is the reproduction.
 * The DER export writes under the lock and allocates after it; it costs ~60 µs more per
 * handshake. Peers' keys still come in as JWK (an import: ~5 µs, where the SPKI DER decoder
 * takes ~80 µs trying every format), which no generation job shares a mutex with.
 */
function x25519Share(): KeyShare {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (spki.length !== 44 || !spki.subarray(0, 12).equals(X25519_SPKI_PREFIX)) {
    throw new Error('node:crypto exported an X25519 key in an unexpected SPKI form');
  }
  const raw = Buffer.from(spki.subarray(12));
  return {
    group: NamedGroup.x25519,
    publicKey: raw,
    computeSecret: (peer) => x25519Secret(privateKey, peer),
  };
}

function x25519Secret(privateKey: KeyObject, peer: Buffer): Buffer | undefined {
  if (peer.length !== 32) return undefined;
  try {
    const peerKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: peer.toString('base64url') },
      format: 'jwk',
    });
    const secret = diffieHellman({ privateKey, publicKey: peerKey });
    // RFC 8422 §5.11 / RFC 7748 §6.1: a low-order peer value gives all zeros; abort.
    let acc = 0;
    for (const b of secret) acc |= b;
    return acc === 0 ? undefined : secret;
  } catch {
    return undefined;
  }
}
