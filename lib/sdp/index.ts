/**
 * SDP for WebRTC: a lossless parser and serializer (RFC 8866), typed views of the attributes
 * WebRTC uses (RFC 8829 JSEP, 8843 BUNDLE, 8851 rid, 8853 simulcast, 8839 ICE, 8122 DTLS),
 * a codec model, and an answer builder for an ICE-lite server.
 */

export * from './answer.js';
export * from './attributes.js';
export * from './codec-match.js';
export * from './codecs.js';
export * from './description.js';
export * from './errors.js';
export * from './media.js';
export * from './offer.js';
export * from './parse.js';
export * from './rtp.js';
export * from './serialize.js';
export * from './session.js';
export * from './simulcast.js';
export * from './transport.js';
