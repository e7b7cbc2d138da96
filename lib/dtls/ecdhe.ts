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

/*
 * X25519 keys move through JWK, not DER: with OpenSSL 3, importing a 32-byte key as JWK costs
 * ~5 µs where SPKI DER costs ~80 µs (the DER decoder tries every format), and exporting JWK
 * is near free where SPKI export costs ~60 µs. Measured on Node 20.
 */
function x25519Share(): KeyShare {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
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
