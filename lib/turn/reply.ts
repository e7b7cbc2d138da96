import { StunMessageBuilder } from '../stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../stun/constants.js';
import type { StunMessage } from '../stun/message.js';

/**
 * How to answer one request, kept apart from the request's bytes so an Allocate can be
 * answered after the relay socket is bound (the received buffer may be gone by then).
 */
export interface ReplyInfo {
  readonly method: number;
  /** A copy of the request's transaction ID. */
  readonly transactionId: Buffer;
  /** The request carried FINGERPRINT, so the response does (RFC 8489 §7.3). */
  readonly fingerprint: boolean;
  /** Long-term key when the request authenticated; undefined before (401, 420, …). */
  readonly key: Buffer | undefined;
  /** The request used MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256: the response mirrors. */
  readonly integrity: boolean;
  readonly integritySha256: boolean;
}

/** Reply info for `m` before authentication (no key). */
export function replyInfo(m: StunMessage): ReplyInfo {
  return {
    method: m.method,
    transactionId: Buffer.from(m.transactionId),
    fingerprint: m.has(AttributeType.FINGERPRINT),
    key: undefined,
    integrity: false,
    integritySha256: false,
  };
}

/**
 * Reply info once `m` authenticated with `key`: responses carry the integrity attributes the
 * request did. A request that chose a PASSWORD-ALGORITHM (`negotiated`) also gets
 * MESSAGE-INTEGRITY-SHA256, which RFC 8489 §9.2.4 requires in every response to it; a client
 * that signed with MESSAGE-INTEGRITY still finds that attribute, ahead of the SHA-256 one.
 */
export function authenticatedReply(
  info: ReplyInfo,
  m: StunMessage,
  key: Buffer,
  negotiated = false,
): ReplyInfo {
  return {
    ...info,
    key,
    integrity: m.has(AttributeType.MESSAGE_INTEGRITY),
    integritySha256: negotiated || m.has(AttributeType.MESSAGE_INTEGRITY_SHA256),
  };
}

/** A success (code 0) or error response builder for `info`, ERROR-CODE already added. */
export function responseBuilder(info: ReplyInfo, code: number): StunMessageBuilder {
  const cls = code === 0 ? StunClass.success : StunClass.error;
  const builder = new StunMessageBuilder(cls, info.method, info.transactionId);
  if (code !== 0) builder.addErrorCode(code);
  return builder;
}

/** Adds SOFTWARE, the integrity attributes and FINGERPRINT as `info` says; the bytes to send. */
export function finishResponse(
  info: ReplyInfo,
  builder: StunMessageBuilder,
  software: string,
): Buffer {
  if (software !== '') builder.addString(AttributeType.SOFTWARE, software);
  if (info.key !== undefined) {
    if (info.integrity) builder.addMessageIntegrity(info.key);
    if (info.integritySha256) builder.addMessageIntegritySha256(info.key);
  }
  if (info.fingerprint) builder.addFingerprint();
  return builder.toBuffer();
}

const METHOD_NAMES: ReadonlyMap<number, string> = new Map([
  [StunMethod.binding, 'binding'],
  [StunMethod.allocate, 'allocate'],
  [StunMethod.refresh, 'refresh'],
  [StunMethod.createPermission, 'create-permission'],
  [StunMethod.channelBind, 'channel-bind'],
]);

/** The observer's label for a method: `allocate`, `create-permission`, … or `unknown`. */
export function methodName(method: number): string {
  return METHOD_NAMES.get(method) ?? 'unknown';
}
