import { AttributeType } from '../stun/constants.js';
import { Allocation } from './allocation.js';
import type { CoreContext, PendingAllocate, TurnRequest } from './core-context.js';
import type { ClientRef, RelayRef } from './effects.js';
import {
  addressFamily,
  evenPort,
  lifetime,
  requestedTransport,
  reservationToken,
} from './request-fields.js';

/** RFC 8656 §7.2: UDP (17) is the only transport a relay is allocated for here. */
const UDP = 17;

interface AllocateParams {
  family: 4 | 6;
  evenPort: boolean;
  reserveNext: boolean;
  token: string | undefined;
  /** ADDITIONAL-ADDRESS-FAMILY IPv6 was asked: refused (no dual allocation). */
  refuseAdditionalFamily: boolean;
  /** LIFETIME asked, seconds. */
  lifetime: number | undefined;
}

/**
 * Allocate (RFC 8656 §7.2). The request has authenticated and is not a retransmission of
 * the allocation's last request (the core answers those from its cache). Checks run in the
 * RFC's order; on success the relay socket is asked of the adapter and the response goes
 * out from `relayOpened` (or at once for a RESERVATION-TOKEN, whose socket is already open).
 *
 * Not supported, on purpose: dual allocation. ADDITIONAL-ADDRESS-FAMILY (IPv6) gets the
 * IPv4 relay plus ADDRESS-ERROR-CODE 440 for IPv6, as §7.2 allows. DONT-FRAGMENT is accepted:
 * Node cannot set IP_MTU_DISCOVER per socket, so relayed datagrams go with the OS default
 * (on Linux, path MTU discovery: DF set).
 */
export function handleAllocate<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): void {
  if (core.liveAllocation(request.client, request.now) !== undefined) {
    core.reject(request, 437);
    return;
  }
  const params = allocateParams(core, request);
  if (params === undefined) return;
  if (core.table.countOf(request.user) >= core.options.maxAllocationsPerUser) {
    core.reject(request, 486);
    return;
  }
  if (core.draining || core.table.size >= core.options.maxAllocations) {
    core.reject(request, 508);
    return;
  }
  const reservation =
    params.token === undefined ? undefined : core.reservations.take(params.token, request.now);
  if (params.token !== undefined && reservation === undefined) {
    core.reject(request, 508); // §7.2: an unknown or expired token
    return;
  }
  const pending: PendingAllocate<C, R> = {
    allocation: new Allocation<C, R>({
      client: request.client,
      username: request.username,
      user: request.user,
      family: reservation?.family ?? params.family,
      transactionId: request.reply.transactionId,
      maxBps: core.options.maxBps,
    }),
    reply: request.reply,
    lifetime: grantedLifetime(core, params.lifetime),
    refuseAdditionalFamily: params.refuseAdditionalFamily,
  };
  if (reservation === undefined) {
    core.openRelay(pending, params);
    return;
  }
  core.table.add(pending.allocation);
  core.completeAllocate(pending, reservation.relay, reservation.relayed, request.now);
}

/**
 * §7.2 lifetime: min(requested, maximum), but never below the default; absent → default.
 * Exported for Refresh, which computes it the same way (§8.2).
 */
export function grantedLifetime<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  requested: number | undefined,
): number {
  const { defaultLifetime, maxLifetime } = core.options;
  if (requested === undefined) return defaultLifetime;
  return Math.max(defaultLifetime, Math.min(requested, maxLifetime));
}

/** Validates the Allocate attributes, answering 400/440/442 itself; undefined if it did. */
function allocateParams<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
): AllocateParams | undefined {
  const m = request.message;
  const transport = requestedTransport(m);
  if (transport === undefined || transport === null) return rejected(core, request, 400);
  if (transport !== UDP) return rejected(core, request, 442);
  const even = evenPort(m);
  const token = reservationToken(m);
  const family = addressFamily(m, AttributeType.REQUESTED_ADDRESS_FAMILY);
  const additional = addressFamily(m, AttributeType.ADDITIONAL_ADDRESS_FAMILY);
  const asked = lifetime(m);
  if (even === null || token === null || family === null || additional === null || asked === null) {
    return rejected(core, request, 400);
  }
  // §7.2: a token names a port already chosen, so it combines with neither of these.
  if (token !== undefined && (even !== undefined || family !== undefined)) {
    return rejected(core, request, 400);
  }
  if (additional !== undefined && (family !== undefined || additional !== 6 || token)) {
    return rejected(core, request, 400);
  }
  if (family === 0) return rejected(core, request, 440);
  const wanted = family ?? 4;
  const relayIp = wanted === 4 ? core.options.relayIpv4 : core.options.relayIpv6;
  if (relayIp === undefined && token === undefined) return rejected(core, request, 440);
  return {
    family: wanted,
    evenPort: even !== undefined,
    reserveNext: even ?? false,
    token,
    refuseAdditionalFamily: additional === 6,
    lifetime: asked,
  };
}

function rejected<C extends ClientRef, R extends RelayRef>(
  core: CoreContext<C, R>,
  request: TurnRequest<C>,
  code: number,
): undefined {
  core.reject(request, code);
  return undefined;
}
