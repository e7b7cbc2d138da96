/**
 * rtcd/webrtc: one server-side WebRTC peer — ICE-lite on a shared UDP port, DTLS in either
 * role with the peer's fingerprint verified, SRTP/SRTCP keyed from DTLS (RFC 5764), RFC 7983
 * demultiplexing. The SDP that carries its parameters is lib/sdp's.
 */
export * from './endpoint.js';
export * from './endpoint-events.js';
export * from './options.js';
export * from './remote-description.js';
export * from './srtp-transport.js';
