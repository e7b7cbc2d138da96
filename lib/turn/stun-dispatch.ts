import { AttributeType, StunClass, StunMethod } from '../stun/constants.js';
import { verifyFingerprint } from '../stun/fingerprint.js';
import {
  decodeStunMessage,
  type StunMessage,
  unknownComprehensionRequired,
} from '../stun/message.js';
import { type AuthDeps, authenticate } from './auth.js';
import type { CoreContext, TurnRequest } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';
import { handleAllocate } from './handle-allocate.js';
import { handleBinding } from './handle-binding.js';
import { handleChannelBind } from './handle-channel-bind.js';
import { handleCreatePermission } from './handle-create-permission.js';
import { handleRefresh } from './handle-refresh.js';
import { handleSend } from './handle-send.js';
import { methodName, replyInfo, responseBuilder } from './reply.js';

/** What dispatching needs beyond the handlers' context: the credential checks. */
export interface DispatchContext<C extends ClientRef, R extends RelayRef>
  extends CoreContext<C, R> {
  readonly authDeps: AuthDeps<C>;
}

type Handler = <C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
) => void;

/** The authenticated TURN methods (RFC 8656 §17); Binding is handled before authentication. */
const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [StunMethod.allocate, handleAllocate],
  [StunMethod.refresh, handleRefresh],
  [StunMethod.createPermission, handleCreatePermission],
  [StunMethod.channelBind, handleChannelBind],
]);

/** Comprehension-required attributes understood here; any other one in a request → 420. */
const KNOWN_ATTRIBUTES: ReadonlySet<number> = new Set([
  AttributeType.MAPPED_ADDRESS,
  AttributeType.USERNAME,
  AttributeType.MESSAGE_INTEGRITY,
  AttributeType.ERROR_CODE,
  AttributeType.UNKNOWN_ATTRIBUTES,
  AttributeType.CHANNEL_NUMBER,
  AttributeType.LIFETIME,
  AttributeType.XOR_PEER_ADDRESS,
  AttributeType.DATA,
  AttributeType.REALM,
  AttributeType.NONCE,
  AttributeType.XOR_RELAYED_ADDRESS,
  AttributeType.REQUESTED_ADDRESS_FAMILY,
  AttributeType.EVEN_PORT,
  AttributeType.REQUESTED_TRANSPORT,
  AttributeType.DONT_FRAGMENT,
  AttributeType.MESSAGE_INTEGRITY_SHA256,
  AttributeType.PASSWORD_ALGORITHM,
  AttributeType.USERHASH,
  AttributeType.XOR_MAPPED_ADDRESS,
  AttributeType.RESERVATION_TOKEN,
  AttributeType.PRIORITY,
  AttributeType.USE_CANDIDATE,
]);

/**
 * One STUN message from a client (`buf` is exactly the message): decoded, checked and
 * routed — requests to Binding or, after authentication, the TURN handlers; Send
 * indications to the relay; anything else dropped with a counted reason.
 */
export function dispatchStun<C extends ClientRef, R extends RelayRef>(
  core: DispatchContext<C, R>,
  client: C,
  buf: Buffer,
  now: number,
): void {
  const decoded = decodeStunMessage(buf);
  if (!decoded.ok) {
    core.observer.drop(decoded.reason);
    return;
  }
  const m = decoded.message;
  if (m.has(AttributeType.FINGERPRINT) && !verifyFingerprint(m)) {
    core.observer.drop('bad-fingerprint');
    return;
  }
  if (m.messageClass === StunClass.request) handleRequest(core, client, m, now);
  else if (m.messageClass !== StunClass.indication) core.observer.drop('client-response');
  else if (m.method !== StunMethod.send) core.observer.drop('client-indication');
  else if (unknownComprehensionRequired(m, KNOWN_ATTRIBUTES).length > 0)
    core.observer.drop('unknown-attribute');
  else handleSend(core, client, m, now);
}

function handleRequest<C extends ClientRef, R extends RelayRef>(
  core: DispatchContext<C, R>,
  client: C,
  m: StunMessage,
  now: number,
): void {
  const info = replyInfo(m);
  const handler = HANDLERS.get(m.method);
  if (handler === undefined && m.method !== StunMethod.binding) {
    core.respond(client, info, responseBuilder(info, 400), 400);
    return;
  }
  // RFC 8489 §6.3.1: unknown comprehension-required attributes → 420, Binding included.
  const unknown = unknownComprehensionRequired(m, KNOWN_ATTRIBUTES);
  if (unknown.length > 0) {
    core.respond(client, info, responseBuilder(info, 420).addUnknownAttributes(unknown), 420);
    return;
  }
  if (handler === undefined) {
    handleBinding(core, client, info);
    return;
  }
  if (retransmission(core, client, m)) return;
  const auth = authenticate(core.authDeps, client, m, info, now);
  if (auth === undefined) return;
  handler(core, { client, message: m, now, ...auth });
}

/**
 * A request whose transaction ID is that of the last one answered on this 5-tuple's
 * allocation gets the same response again (RFC 8489 §6.3.1: a retransmission, e.g. after a
 * lost Allocate success, must not be processed twice). One still being processed (an
 * Allocate waiting for its socket) is dropped: its response is on the way.
 */
function retransmission<C extends ClientRef, R extends RelayRef>(
  core: DispatchContext<C, R>,
  client: C,
  m: StunMessage,
): boolean {
  const allocation = core.table.get(client);
  if (allocation === undefined || !allocation.lastTransactionId.equals(m.transactionId)) {
    return false;
  }
  if (allocation.lastResponse === undefined) {
    core.observer.drop('retransmission-pending');
  } else {
    core.effects.sendToClient(client, allocation.lastResponse);
    core.observer.response(methodName(m.method), 0);
  }
  return true;
}
