/**
 * What the SFU's HTTP front reads from a request besides the SDP itself: the body (bounded),
 * WHEP's `?layer=N`, a syntax check of the offer's fingerprints; and the error it answers
 * with a `Retry-After`.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../util/logger.js';
import type { WebRtcRemoteParameters } from '../webrtc/options.js';
import type { AddressRateLimiter } from './request-limiter.js';
import { WhipError } from './whip.js';

/** An HTTP error the front answers with a `Retry-After` (429, 503). */
export class RetryError extends WhipError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(status, code, message);
  }
}

/**
 * The address a request is counted against: `clientAddress(req)` when given (a throw is
 * logged and falls back), else the TCP peer's address (SfuServerOptions.clientAddress).
 */
export function clientAddressOf(
  req: IncomingMessage,
  clientAddress: ((req: IncomingMessage) => string) | undefined,
  logger: Logger,
): string {
  if (clientAddress === undefined) return req.socket.remoteAddress ?? '';
  try {
    return String(clientAddress(req));
  } catch (err) {
    logger.warn({ err }, 'sfu clientAddress threw');
    return req.socket.remoteAddress ?? '';
  }
}

/**
 * Takes one request of `req`'s client address (clientAddressOf) from `limiter`; over its
 * budget the request is drained and a 429 `rate-limited` RetryError thrown.
 */
export function takeRequest(
  limiter: AddressRateLimiter,
  req: IncomingMessage,
  clientAddress: ((req: IncomingMessage) => string) | undefined,
  logger: Logger,
): void {
  const wait = limiter.take(clientAddressOf(req, clientAddress, logger), performance.now());
  if (wait > 0) {
    req.resume();
    const s = Math.ceil(wait / 1000);
    throw new RetryError(429, 'rate-limited', 'too many requests from this address', s);
  }
}

/** A WHIP/WHEP POST must carry `application/sdp` (RFC 9725 §4.2); else it is drained, 415. */
export function requireSdpBody(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/sdp') {
    req.resume();
    throw new WhipError(415, 'unsupported-media-type', 'Content-Type must be application/sdp');
  }
}

/**
 * WHEP `?layer=N`: the simulcast layer a viewer prefers (0 = lowest; clamped by the router to
 * the layers that exist). Absent: the highest. Anything but an integer 0-3 is a 400.
 */
export function viewLayerOf(q: URLSearchParams): number | undefined {
  const v = q.get('layer');
  if (v === null) return undefined;
  if (!/^[0-3]$/.test(v)) throw new WhipError(400, 'bad-layer', 'layer must be an integer 0-3');
  return Number(v);
}

/** Bytes of the hash functions RFC 8122 §5 fingerprints use (sha-1 … sha-512). */
const FINGERPRINT_BYTES = new Set([20, 28, 32, 48, 64]);

/**
 * A fingerprint that is not colon-separated hex of a hash's length could never match a
 * certificate: the offer is malformed (400 `bad-sdp`), not a session to wait out.
 */
export function checkFingerprints(remote: WebRtcRemoteParameters): void {
  for (const f of remote.fingerprints) {
    const ok = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$/.test(f.value);
    if (!ok || !FINGERPRINT_BYTES.has((f.value.length + 1) / 3)) {
      throw new WhipError(400, 'bad-sdp', 'offer: bad-fingerprint');
    }
  }
}

export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) throw new WhipError(413, 'too-large', `body over ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
