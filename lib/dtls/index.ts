/**
 * rtcd/dtls: DTLS 1.2 (RFC 6347) for WebRTC, both roles, sans-IO core plus a UDP adapter.
 *
 *   import { DtlsConnection, generateCertificate } from 'rtcd/dtls';
 *   const certificate = await generateCertificate();
 *   const conn = new DtlsConnection({ role: 'client', certificate,
 *     remoteFingerprints: [{ algorithm: 'sha-256', value: sdpFingerprint }] },
 *     { send: (d) => ice.send(d), data: (b) => …, connected: () => …, closed: (why) => … });
 *   conn.start(now);  conn.receive(datagram, now);  conn.handleTimeout(now);
 *   const keys = conn.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60);  // RFC 5764 §4.2
 */
export * from './certificate.js';
export * from './cipher-suites.js';
export * from './connection.js';
export * from './constants.js';
export * from './cookie.js';
export * from './ecdhe.js';
export * from './errors.js';
export * from './extensions.js';
export * from './flight.js';
export * from './handshake.js';
export * from './key-schedule.js';
export * from './messages/index.js';
export * from './options.js';
export * from './prf.js';
export * from './reassembler.js';
export * from './record.js';
export * from './record-protection.js';
export * from './record-replay.js';
export * from './server-listener.js';
export * from './signature.js';
export * from './srtp-keys.js';
export * from './transcript.js';
export * from './udp-adapter.js';
