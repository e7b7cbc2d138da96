/**
 * The rtcd browser SDK (bundled to `/sdk.js` by `npm run build`):
 *
 *   import { RtcdClient } from '/sdk.js';
 *   const call = await RtcdClient.join({ url: '/ws', room: 'abc', localStream });
 *
 * or, for a room whose media goes through the SFU:
 *
 *   import { SfuRoom } from '/sdk.js';
 *   const room = await SfuRoom.join({ url: '/ws', room: 'abc', localStream });
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
export type {
  ClientMessage,
  IceCandidateMessage,
  ServerMessage,
  SessionType,
  SfuTrackInfo,
  SfuTrackSource,
} from './protocol.js';
export { CloseCode } from './protocol.js';
export { DEFAULT_SIMULCAST } from './sfu-publisher.js';
export {
  type PublishOptions,
  type RemoteTrack,
  type SfuJoinOptions,
  SfuRoom,
  type SfuRoomEvents,
  type SfuRoomListeners,
} from './sfu-room.js';
export type { ReconnectOptions } from './signal-socket.js';
