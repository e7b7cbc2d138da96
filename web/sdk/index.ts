/**
 * The rtcd browser SDK (bundled to `/sdk.js` by `npm run build`):
 *
 *   import { RtcdClient } from '/sdk.js';
 *   const call = await RtcdClient.join({ url: '/ws', room: 'abc', localStream });
 */
export {
  type ClientState,
  httpUrl,
  type JoinOptions,
  RtcdClient,
  type RtcdClientEvents,
  SignalError,
  websocketUrl,
} from './client.js';
export type { Listener } from './emitter.js';
export type { CandidatePairInfo, CandidateType, RemotePeer } from './peer.js';
export type { ClientMessage, IceCandidateMessage, ServerMessage } from './protocol.js';
export { CloseCode } from './protocol.js';
export type { ReconnectOptions } from './signal-socket.js';
