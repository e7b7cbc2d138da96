import { decodeXorAddress } from '../stun/attributes/address.js';
import { AttributeType } from '../stun/constants.js';
import type { StunMessage } from '../stun/message.js';
import type { CoreContext } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';

/**
 * Send indication (RFC 8656 §11.2): relays the DATA to XOR-PEER-ADDRESS if the allocation
 * has a permission for the peer's IP. Indications get no response, so every failure is a
 * counted drop. DONT-FRAGMENT is ignored (see `handleAllocate`).
 */
export function handleSend<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  client: C,
  m: StunMessage,
  now: number,
): void {
  const allocation = core.table.get(client);
  if (allocation === undefined || allocation.relay === undefined || now >= allocation.expiresAt) {
    core.observer.drop('no-allocation');
    return;
  }
  const peerAttribute = m.get(AttributeType.XOR_PEER_ADDRESS);
  const data = m.get(AttributeType.DATA);
  const peer = peerAttribute && decodeXorAddress(m, peerAttribute);
  if (!peer || data === undefined) {
    core.observer.drop('malformed-send');
    return;
  }
  if (!allocation.permits(peer.address, now)) {
    core.observer.drop('no-permission');
    return;
  }
  if (!core.admit(allocation, data.length, now)) return;
  core.effects.sendToPeer(allocation.relay, peer, m.buffer, data.offset, data.length);
  core.observer.relayed('client-to-peer', data.length);
}
