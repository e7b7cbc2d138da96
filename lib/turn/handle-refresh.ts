import { AttributeType } from '../stun/constants.js';
import { type CoreContext, ownAllocation, type TurnRequest } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';
import { grantedLifetime } from './handle-allocate.js';
import { responseBuilder } from './reply.js';
import { addressFamily, lifetime } from './request-fields.js';

/**
 * Refresh (RFC 8656 §8.2): LIFETIME 0 deletes the allocation, any other value (or none)
 * restarts its lifetime, clamped like Allocate's. REQUESTED-ADDRESS-FAMILY, if present,
 * must name the allocation's family (443 otherwise).
 */
export function handleRefresh<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): void {
  const allocation = ownAllocation(core, request);
  if (allocation === undefined) return;
  const m = request.message;
  const family = addressFamily(m, AttributeType.REQUESTED_ADDRESS_FAMILY);
  const asked = lifetime(m);
  if (family === null || asked === null) {
    core.reject(request, 400);
    return;
  }
  if (family !== undefined && family !== allocation.family) {
    core.reject(request, 443);
    return;
  }
  const granted = asked === 0 ? 0 : grantedLifetime(core, asked);
  if (granted === 0) core.removeAllocation(allocation);
  else allocation.expiresAt = request.now + granted * 1000;
  const builder = responseBuilder(request.reply, 0).addUint32(AttributeType.LIFETIME, granted);
  if (granted !== 0) core.succeed(request, allocation, builder);
  else core.respond(request.client, request.reply, builder, 0);
}
