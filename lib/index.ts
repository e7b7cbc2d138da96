// rtcd: the roles a program embeds, their options, and the protocol layers as namespaces.
// `rtcd/stun`, `rtcd/turn`, `rtcd/rtp`, `rtcd/rtcp`, `rtcd/srtp`, `rtcd/dtls`, `rtcd/ice`,
// `rtcd/sdp`, `rtcd/webrtc`, `rtcd/sfu` and `rtcd/signal` give the same layers as flat modules.

export * as dtls from './dtls/index.js';
export { DtlsConnection, type DtlsOptions, generateCertificate } from './dtls/index.js';
export * as ice from './ice/index.js';
export { IceAgent, type IceAgentOptions, IceLiteMux } from './ice/index.js';
export * as rtcp from './rtcp/index.js';
export * as rtp from './rtp/index.js';
export * as sdp from './sdp/index.js';
export * as sfu from './sfu/index.js';
export { SfuRoomService, SfuServer, type SfuServerOptions } from './sfu/index.js';
export * as signal from './signal/index.js';
export {
  connectRoomService,
  type RoomService,
  SignalServer,
  type SignalServerOptions,
} from './signal/index.js';
export * as srtp from './srtp/index.js';
export * as stun from './stun/index.js';
export * as turn from './turn/index.js';
export {
  type AllocateOptions,
  type AutoRefreshOptions,
  CredentialStore,
  type ListenAddress,
  type Logger,
  nullObserver,
  restPassword,
  silentLogger,
  TurnClient,
  TurnClientError,
  TurnClientErrorCode,
  type TurnClientEvents,
  type TurnClientOptions,
  TurnMetrics,
  type TurnObserver,
  TurnOptionsError,
  TurnServer,
  type TurnServerAddresses,
  type TurnServerDeps,
  type TurnServerEvents,
  type TurnServerOptions,
} from './turn/index.js';
export * from './version.js';
export * as webrtc from './webrtc/index.js';
export { WebRtcEndpoint } from './webrtc/index.js';
