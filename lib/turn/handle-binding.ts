import { AttributeType } from '../stun/constants.js';
import type { CoreContext } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';
import { type ReplyInfo, responseBuilder } from './reply.js';

/**
 * Binding request (RFC 8489 §3, STUN without authentication): answered on every listener
 * with the client's reflexive address in XOR-MAPPED-ADDRESS. No allocation is involved.
 */
export function handleBinding<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  client: C,
  reply: ReplyInfo,
): void {
  const builder = responseBuilder(reply, 0).addXorAddress(
    AttributeType.XOR_MAPPED_ADDRESS,
    client.remote,
  );
  core.respond(client, reply, builder, 0);
}
