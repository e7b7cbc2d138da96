/**
 * What a room peer is told for each failure below the room service: the contract's
 * `RoomServiceErrorCode`s (lib/signal/room-service.ts) from SDP, WHIP answer, router and
 * ICE-lite errors, table-driven.
 */
import t from 'tap';
import { IceLiteOptionsError } from '../../lib/ice/lite-options.js';
import { SfuError, SfuErrorCode } from '../../lib/sfu/errors.js';
import {
  RoomServiceError,
  roomServiceCodes,
  serviceError,
} from '../../lib/sfu/room-service-errors.js';
import { WhipError } from '../../lib/sfu/whip.js';
import { RoomServiceErrorCode } from '../../lib/signal/room-service.js';
import { WebRtcOptionsError } from '../../lib/webrtc/options.js';

const cases: [string, unknown, keyof typeof roomServiceCodes][] = [
  ['an SDP that does not parse', new WhipError(400, 'bad-sdp', 'offer: x'), 'badSdp'],
  ['no BUNDLE', new WhipError(422, 'no-bundle', 'no group'), 'badSdp'],
  ['nothing published', new WhipError(422, 'nothing-published', 'none'), 'notAcceptable'],
  ['the server not listening', new WhipError(503, 'not-listening', 'no'), 'unavailable'],
  ['a router limit', new SfuError(SfuErrorCode.LIMIT, 'producers'), 'limit'],
  ['an invalid track', new SfuError(SfuErrorCode.INVALID, 'layers'), 'notAcceptable'],
  ['an SSRC published twice', new SfuError(SfuErrorCode.DUPLICATE, 'ssrc'), 'badSdp'],
  ['a closed room', new SfuError(SfuErrorCode.CLOSED, 'room closed'), 'badState'],
  ['a full mux', new IceLiteOptionsError('maxSessions', 'limit'), 'limit'],
  ['bad remote parameters', new WebRtcOptionsError('remote.setup', 'bad'), 'badSdp'],
  ['a service refusal', new RoomServiceError('badState', 'no offer'), 'badState'],
  ['anything else', new Error('boom'), 'internal'],
];

t.test('each failure maps to one contract code', async (t) => {
  for (const [name, err, key] of cases) t.equal(serviceError(err).key, key, name);
  t.equal(serviceError(new Error('secret detail')).message, 'internal error', 'no internals leak');
});

t.test('the codes are the contract’s', async (t) => {
  t.same(roomServiceCodes, RoomServiceErrorCode);
});
