import { HandshakeType } from '../constants.js';
import { type Certificate, decodeCertificate, encodeCertificate } from './certificate.js';
import {
  type CertificateRequest,
  decodeCertificateRequest,
  encodeCertificateRequest,
} from './certificate-request.js';
import {
  type CertificateVerify,
  decodeCertificateVerify,
  encodeCertificateVerify,
} from './certificate-verify.js';
import { type ClientHello, decodeClientHello, encodeClientHello } from './client-hello.js';
import {
  type ClientKeyExchange,
  decodeClientKeyExchange,
  encodeClientKeyExchange,
} from './client-key-exchange.js';
import { decodeFinished, encodeFinished, type Finished } from './finished.js';
import { decodeHelloRequest, encodeHelloRequest } from './hello-request.js';
import {
  decodeHelloVerifyRequest,
  encodeHelloVerifyRequest,
  type HelloVerifyRequest,
} from './hello-verify-request.js';
import { decodeServerHello, encodeServerHello, type ServerHello } from './server-hello.js';
import { decodeServerHelloDone, encodeServerHelloDone } from './server-hello-done.js';
import {
  decodeServerKeyExchange,
  encodeServerKeyExchange,
  type ServerKeyExchange,
} from './server-key-exchange.js';

/** Any DTLS 1.2 (ECDHE) handshake message body, tagged by its HandshakeType. */
export type HandshakeBody =
  | { msgType: typeof HandshakeType.helloRequest }
  | { msgType: typeof HandshakeType.clientHello; message: ClientHello }
  | { msgType: typeof HandshakeType.serverHello; message: ServerHello }
  | { msgType: typeof HandshakeType.helloVerifyRequest; message: HelloVerifyRequest }
  | { msgType: typeof HandshakeType.certificate; message: Certificate }
  | { msgType: typeof HandshakeType.serverKeyExchange; message: ServerKeyExchange }
  | { msgType: typeof HandshakeType.certificateRequest; message: CertificateRequest }
  | { msgType: typeof HandshakeType.serverHelloDone }
  | { msgType: typeof HandshakeType.certificateVerify; message: CertificateVerify }
  | { msgType: typeof HandshakeType.clientKeyExchange; message: ClientKeyExchange }
  | { msgType: typeof HandshakeType.finished; message: Finished };

/**
 * Decodes a reassembled body by its type. Undefined for an unknown type or a malformed body.
 * ServerKeyExchange and ClientKeyExchange are read in their ECDHE form, the only key
 * exchange here.
 */
export function decodeHandshakeBody(msgType: number, body: Buffer): HandshakeBody | undefined {
  switch (msgType) {
    case HandshakeType.helloRequest:
      return decodeHelloRequest(body) && { msgType };
    case HandshakeType.clientHello:
      return wrap(msgType, decodeClientHello(body));
    case HandshakeType.serverHello:
      return wrap(msgType, decodeServerHello(body));
    case HandshakeType.helloVerifyRequest:
      return wrap(msgType, decodeHelloVerifyRequest(body));
    case HandshakeType.certificate:
      return wrap(msgType, decodeCertificate(body));
    case HandshakeType.serverKeyExchange:
      return wrap(msgType, decodeServerKeyExchange(body));
    case HandshakeType.certificateRequest:
      return wrap(msgType, decodeCertificateRequest(body));
    case HandshakeType.serverHelloDone:
      return decodeServerHelloDone(body) && { msgType };
    case HandshakeType.certificateVerify:
      return wrap(msgType, decodeCertificateVerify(body));
    case HandshakeType.clientKeyExchange:
      return wrap(msgType, decodeClientKeyExchange(body));
    case HandshakeType.finished:
      return wrap(msgType, decodeFinished(body));
    default:
      return undefined;
  }
}

function wrap<K extends number, M>(
  msgType: K,
  message: M | undefined,
): { msgType: K; message: M } | undefined {
  return message === undefined ? undefined : { msgType, message };
}

/** The body bytes of a decoded message (the inverse of `decodeHandshakeBody`). */
export function encodeHandshakeBody(b: HandshakeBody): Buffer {
  switch (b.msgType) {
    case HandshakeType.helloRequest:
      return encodeHelloRequest();
    case HandshakeType.clientHello:
      return encodeClientHello(b.message);
    case HandshakeType.serverHello:
      return encodeServerHello(b.message);
    case HandshakeType.helloVerifyRequest:
      return encodeHelloVerifyRequest(b.message);
    case HandshakeType.certificate:
      return encodeCertificate(b.message);
    case HandshakeType.serverKeyExchange:
      return encodeServerKeyExchange(b.message);
    case HandshakeType.certificateRequest:
      return encodeCertificateRequest(b.message);
    case HandshakeType.serverHelloDone:
      return encodeServerHelloDone();
    case HandshakeType.certificateVerify:
      return encodeCertificateVerify(b.message);
    case HandshakeType.clientKeyExchange:
      return encodeClientKeyExchange(b.message);
    case HandshakeType.finished:
      return encodeFinished(b.message);
  }
}
