import { decodeXorAddress } from '../stun/attributes/address.js';
import { AttributeType } from '../stun/constants.js';
import type { TransportAddress } from '../stun/transport-address.js';
import type { Allocation } from './allocation.js';
import { type CoreContext, ownAllocation, type TurnRequest } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';

/**
 * CreatePermission (RFC 8656 §10.2): one permission per XOR-PEER-ADDRESS, keyed by IP only
 * (the port is ignored, §9), lasting `permissionLifetime` (300 s). All or nothing: if one
 * peer is malformed (400), of the wrong family (443) or forbidden by the peer filter (403),
 * or the new ones would not fit in `maxPermissionsPerAllocation` (508), none is installed.
 */
export function handleCreatePermission<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): void {
  const allocation = ownAllocation(core, request);
  if (allocation === undefined) return;
  const peers: TransportAddress[] = [];
  for (const a of request.message.attributes) {
    if (a.type !== AttributeType.XOR_PEER_ADDRESS) continue;
    const peer = decodeXorAddress(request.message, a);
    if (peer === undefined) {
      core.reject(request, 400);
      return;
    }
    peers.push(peer);
  }
  if (peers.length === 0) {
    core.reject(request, 400);
    return;
  }
  const code = checkPeers(core, allocation, peers) || permissionRoom(core, allocation, peers);
  if (code !== 0) {
    core.reject(request, code);
    return;
  }
  const expiresAt = request.now + core.options.permissionLifetime * 1000;
  let added = 0;
  for (const peer of peers) if (allocation.permit(peer.address, expiresAt)) added++;
  if (added > 0) core.countChanged(added, 0);
  core.succeed(request, allocation);
}

/**
 * 0 if every peer may be relayed to from `allocation`, else the error code: 443 for a peer
 * of the other address family (§10.2, §12.2), 403 for one the peer filter refuses.
 */
export function checkPeers<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  allocation: Allocation<C, R>,
  peers: readonly TransportAddress[],
): number {
  for (const peer of peers) if (peer.family !== allocation.family) return 443;
  for (const peer of peers) {
    if (!core.peerFilter.isAllowed(peer.address)) return 403;
  }
  return 0;
}

/**
 * 508 Insufficient Capacity if permissions for `peers` would take the allocation past
 * `maxPermissionsPerAllocation` (RFC 8656 §10.2 and §12.2 answer 508 for "some capacity
 * limit"), else 0. Refreshing permissions the allocation holds always fits.
 */
export function permissionRoom<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  allocation: Allocation<C, R>,
  peers: readonly TransportAddress[],
): number {
  const wanted = allocation.permissionCount + allocation.newPermissions(peers);
  return wanted > core.options.maxPermissionsPerAllocation ? 508 : 0;
}
