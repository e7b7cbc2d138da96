import { decodeXorAddress } from '../stun/attributes/address.js';
import { AttributeType } from '../stun/constants.js';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Allocation } from './allocation.js';
import { LEGACY_MAX_CHANNEL, MAX_CHANNEL, MIN_CHANNEL } from './channel-data.js';
import { type CoreContext, ownAllocation, type TurnRequest } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';
import { checkPeers, permissionRoom } from './handle-create-permission.js';
import { channelNumber } from './request-fields.js';

/**
 * ChannelBind (RFC 8656 §12.2): binds a channel number in 0x4000-0x4FFF (0x7FFF with
 * `legacyChannelNumbers`, RFC 5766 §11) to one peer
 * transport address for `channelLifetime` (600 s) and installs or refreshes the permission
 * for the peer's IP. Rebinding the same number to the same peer refreshes; a number bound
 * to another peer, or a peer bound to another number, is a 400; a new permission beyond
 * `maxPermissionsPerAllocation` is a 508.
 */
export function handleChannelBind<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): void {
  const allocation = ownAllocation(core, request);
  if (allocation === undefined) return;
  const m = request.message;
  const number = channelNumber(m);
  const peerAttribute = m.get(AttributeType.XOR_PEER_ADDRESS);
  const peer = peerAttribute && decodeXorAddress(m, peerAttribute);
  const max = core.options.legacyChannelNumbers ? LEGACY_MAX_CHANNEL : MAX_CHANNEL;
  if (typeof number !== 'number' || number < MIN_CHANNEL || number > max || !peer) {
    core.reject(request, 400);
    return;
  }
  const code =
    checkPeers(core, allocation, [peer]) ||
    rebindingError(allocation, number, peer) ||
    permissionRoom(core, allocation, [peer]);
  if (code !== 0) {
    core.reject(request, code);
    return;
  }
  const now = request.now;
  const newChannel = allocation.bind(number, peer, now + core.options.channelLifetime * 1000);
  const newPermission = allocation.permit(
    peer.address,
    now + core.options.permissionLifetime * 1000,
  );
  core.countChanged(newPermission ? 1 : 0, newChannel ? 1 : 0);
  core.succeed(request, allocation);
}

/** §12.2's rules against changing an existing binding: 400, or 0 if none is broken. */
function rebindingError<C extends ClientRef, R extends RelayRef>(
  allocation: Allocation<C, R>,
  number: number,
  peer: TransportAddress,
): number {
  const byNumber = allocation.channels.get(number);
  if (byNumber && (byNumber.peer.address !== peer.address || byNumber.peer.port !== peer.port)) {
    return 400;
  }
  const byPeer = allocation.channelOfPeer(peer);
  if (byPeer && byPeer.number !== number) return 400;
  return 0;
}
