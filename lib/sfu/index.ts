/**
 * The SFU router core (sans-IO): Router → Room → Participant → Producer → Consumer, forwarding
 * clear RTP with per-subscriber SSRC/sequence/timestamp/payload-type/extension rewriting,
 * NACK/RTX from a packet cache, NACKs and throttled key-frame requests upstream, SR/RR per leg,
 * simulcast layer selection by preference and bandwidth, and active-speaker detection. Beside
 * it, the first network-facing pieces: WHIP/WHEP answers (whip.ts), an endpoint bound to a
 * participant (endpoint-leg.ts), the HTTP + shared-UDP-port server (sfu-server.ts), and the
 * SFU side of `rtcd signal` rooms of type sfu (room-service.ts: `SfuRoomService`), and the
 * HTTP front of an SFU spread over worker processes (worker-front.ts: `SfuWorkerFront`).
 */
export * from './active-speaker.js';
export * from './bandwidth.js';
export * from './consumer.js';
export * from './emitter.js';
export * from './endpoint-leg.js';
export * from './errors.js';
export * from './incoming-layer.js';
export * from './ingress-limits.js';
export * from './keyframe.js';
export * from './metrics.js';
export * from './options.js';
export * from './packet-cache.js';
export * from './participant.js';
export * from './producer.js';
export * from './publish-offer.js';
export * from './request-limiter.js';
export * from './room.js';
export * from './room-placement.js';
export * from './room-service.js';
export * from './room-service-errors.js';
export * from './room-service-options.js';
export * from './router.js';
export * from './sfu-server.js';
export * from './simulcast-offer.js';
export * from './subscribe-offer.js';
export * from './transport-cc-feedback.js';
export * from './whip.js';
export * from './worker-front.js';
export * from './worker-rooms.js';
