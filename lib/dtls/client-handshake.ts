/**
 * The client side of the DTLS 1.2 handshake (RFC 6347 §4.2, RFC 5246 §7.3), ECDHE only:
 *
 *   flight 1  ClientHello                       →
 *   flight 2                                    ←  HelloVerifyRequest (optional)
 *   flight 3  ClientHello + cookie              →
 *   flight 4                                    ←  ServerHello, Certificate, ServerKeyExchange,
 *                                                  CertificateRequest?, ServerHelloDone
 *   flight 5  Certificate?, ClientKeyExchange,  →
 *             CertificateVerify?, [CCS], Finished
 *   flight 6                                    ←  [CCS], Finished
 *
 * Every authenticator is checked: the ServerKeyExchange signature with the certificate's key,
 * the certificate's fingerprint against the SDP's, and the server's Finished.
 */
import type { KeyObject } from 'node:crypto';
import { cipherSuiteById } from './cipher-suites.js';
import {
  AlertDescription,
  ClientCertificateType,
  COMPRESSION_NULL,
  DTLS1_2,
  EcCurveType,
  EcPointFormat,
  ExtensionType,
  HandshakeType,
} from './constants.js';
import { generateKeyShare, type KeyShare } from './ecdhe.js';
import { DtlsErrorCode } from './errors.js';
import {
  decodeUseSrtp,
  type Extension,
  encodeEcPointFormats,
  encodeExtendedMasterSecret,
  encodeRenegotiationInfo,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeUseSrtp,
  findExtension,
} from './extensions.js';
import type { FlightMessage } from './flight.js';
import type { HandshakeMessage } from './handshake.js';
import {
  acceptPeerCertificate,
  checkRenegotiationInfo,
  decodeFailure,
  fatal,
  type HandshakeDriver,
  type HandshakeHost,
  handshakeMessage,
  newRandom,
  pickSignatureScheme,
  requireExtendedMasterSecret,
  type SessionKeys,
  sameBytes,
  unexpected,
} from './handshake-common.js';
import { extendedMasterSecret, verifyData } from './key-schedule.js';
import { encodeCertificate } from './messages/certificate.js';
import { decodeCertificateRequest } from './messages/certificate-request.js';
import { encodeCertificateVerify } from './messages/certificate-verify.js';
import { type ClientHello, encodeClientHello } from './messages/client-hello.js';
import { encodeClientKeyExchange } from './messages/client-key-exchange.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import { decodeHelloVerifyRequest } from './messages/hello-verify-request.js';
import { decodeServerHello } from './messages/server-hello.js';
import { decodeServerHelloDone } from './messages/server-hello-done.js';
import {
  decodeServerKeyExchange,
  serverKeyExchangeSignedData,
} from './messages/server-key-exchange.js';
import { schemesForKey, sign, verifySignature } from './signature.js';
import { HandshakeTranscript } from './transcript.js';

type ClientState =
  | 'wait-server-hello'
  | 'wait-certificate'
  | 'wait-server-key-exchange'
  | 'wait-hello-done'
  | 'wait-finished'
  | 'done';

const MAX_COOKIE = 255;
const MAX_HELLO_VERIFIES = 3;

export class ClientHandshake implements HandshakeDriver {
  private state: ClientState = 'wait-server-hello';
  private readonly transcript = new HandshakeTranscript();
  private readonly random = newRandom();
  private hello: ClientHello | undefined;
  private sendSeq = 0;
  private serverRandom: Buffer | undefined;
  private suiteId = 0;
  private serverKey: KeyObject | undefined;
  private share: KeyShare | undefined;
  private preMaster: Buffer | undefined;
  private certificateRequested = false;
  private clientScheme: number | undefined;
  private sessionKeys: SessionKeys | undefined;
  /** HelloVerifyRequests answered (a server may ask again, e.g. after rotating its secret). */
  private helloVerifies = 0;
  remoteCertificate: Buffer | undefined;
  srtpProfile: number | undefined;

  constructor(private readonly host: HandshakeHost) {}

  get keysReady(): boolean {
    return this.sessionKeys !== undefined;
  }

  get keys(): SessionKeys | undefined {
    return this.state === 'done' ? this.sessionKeys : undefined;
  }

  start(now: number): void {
    const o = this.host.options;
    const extensions: Extension[] = [
      encodeExtendedMasterSecret(),
      encodeRenegotiationInfo(),
      encodeSupportedGroups(o.groups),
      encodeEcPointFormats([EcPointFormat.uncompressed]),
      encodeSignatureAlgorithms(o.signatureSchemes),
    ];
    if (o.srtpProfiles.length > 0) {
      extensions.push(encodeUseSrtp({ profiles: [...o.srtpProfiles], mki: Buffer.alloc(0) }));
    }
    this.hello = {
      clientVersion: DTLS1_2,
      random: this.random,
      sessionId: Buffer.alloc(0),
      cookie: Buffer.alloc(0),
      cipherSuites: [...o.cipherSuites],
      compressionMethods: [COMPRESSION_NULL],
      extensions,
    };
    this.sendHello(now);
  }

  private sendHello(now: number): void {
    const body = encodeClientHello(this.hello!);
    const seq = this.sendSeq++;
    this.transcript.reset();
    this.transcript.add(HandshakeType.clientHello, seq, body);
    this.host.sendFlight([handshakeMessage(0, HandshakeType.clientHello, seq, body)], true, now);
  }

  handle(msg: HandshakeMessage, now: number): void {
    if (this.state === 'done') {
      // (renegotiation requests are refused by the connection before they get here)
      throw unexpected(`handshake message ${msg.msgType} after the handshake`);
    }
    if (msg.msgType === HandshakeType.helloVerifyRequest) {
      this.onHelloVerify(msg, now);
      return;
    }
    if (msg.msgType === HandshakeType.helloRequest) return; // ignored during a handshake
    switch (this.state) {
      case 'wait-server-hello':
        if (msg.msgType !== HandshakeType.serverHello) throw unexpected('expected ServerHello');
        this.record(msg, () => this.onServerHello(msg.body));
        return;
      case 'wait-certificate':
        if (msg.msgType !== HandshakeType.certificate) throw unexpected('expected Certificate');
        this.record(msg, () => this.onCertificate(msg.body));
        return;
      case 'wait-server-key-exchange':
        if (msg.msgType !== HandshakeType.serverKeyExchange) {
          throw unexpected('expected ServerKeyExchange');
        }
        this.record(msg, () => this.onServerKeyExchange(msg.body));
        return;
      case 'wait-hello-done':
        if (msg.msgType === HandshakeType.certificateRequest && !this.certificateRequested) {
          this.record(msg, () => this.onCertificateRequest(msg.body));
          return;
        }
        if (msg.msgType !== HandshakeType.serverHelloDone) {
          throw unexpected('expected ServerHelloDone');
        }
        if (decodeServerHelloDone(msg.body) === undefined) throw decodeFailure('ServerHelloDone');
        this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
        this.sendFlight5(now);
        return;
      case 'wait-finished':
        if (msg.msgType !== HandshakeType.finished) throw unexpected('expected Finished');
        if (this.host.readEpoch === 0) throw unexpected('Finished before ChangeCipherSpec');
        this.onFinished(msg, now);
        return;
    }
  }

  private record(msg: HandshakeMessage, fn: () => void): void {
    fn();
    this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
  }

  private onHelloVerify(msg: HandshakeMessage, now: number): void {
    if (this.state !== 'wait-server-hello' || this.helloVerifies >= MAX_HELLO_VERIFIES) {
      throw unexpected('HelloVerifyRequest out of place');
    }
    const hvr = decodeHelloVerifyRequest(msg.body);
    if (hvr === undefined || hvr.cookie.length > MAX_COOKIE) {
      throw decodeFailure('HelloVerifyRequest');
    }
    // RFC 6347 §4.2.1: the cookie exchange is not part of the transcript; the second
    // ClientHello is the same hello plus the cookie, with the next message_seq.
    this.helloVerifies++;
    this.hello = { ...this.hello!, cookie: Buffer.from(hvr.cookie) };
    this.host.restartEpoch0();
    this.sendHello(now);
  }

  private onServerHello(body: Buffer): void {
    const sh = decodeServerHello(body);
    if (sh === undefined) throw decodeFailure('ServerHello');
    if (sh.serverVersion !== DTLS1_2) {
      throw fatal(
        DtlsErrorCode.protocolVersion,
        AlertDescription.protocolVersion,
        `server chose version 0x${sh.serverVersion.toString(16)}`,
      );
    }
    const o = this.host.options;
    if (!o.cipherSuites.includes(sh.cipherSuite) || sh.compressionMethod !== COMPRESSION_NULL) {
      throw fatal(
        DtlsErrorCode.illegalParameter,
        AlertDescription.illegalParameter,
        `server chose cipher suite 0x${sh.cipherSuite.toString(16)} we did not offer`,
      );
    }
    // RFC 5246 §7.4.1.4: a server may only answer extensions we sent.
    const offered = new Set(this.hello!.extensions.map((e) => e.type));
    const unsolicited = sh.extensions.find((e) => !offered.has(e.type));
    if (unsolicited !== undefined) {
      throw fatal(
        DtlsErrorCode.unsupportedExtension,
        AlertDescription.unsupportedExtension,
        `server sent extension ${unsolicited.type} we did not offer`,
      );
    }
    requireExtendedMasterSecret(sh.extensions);
    checkRenegotiationInfo(sh.extensions);
    const srtp = findExtension(sh.extensions, ExtensionType.useSrtp);
    if (srtp !== undefined) {
      const v = decodeUseSrtp(srtp.data);
      if (v === undefined) throw decodeFailure('use_srtp');
      // RFC 5764 §4.1.1: exactly one profile, one we offered, and the MKI we sent (none).
      const profile = v.profiles[0];
      if (v.profiles.length !== 1 || profile === undefined || !o.srtpProfiles.includes(profile)) {
        throw fatal(
          DtlsErrorCode.illegalParameter,
          AlertDescription.illegalParameter,
          'server chose an SRTP profile we did not offer',
        );
      }
      this.srtpProfile = profile;
    }
    this.serverRandom = Buffer.from(sh.random);
    this.suiteId = sh.cipherSuite;
    this.state = 'wait-certificate';
  }

  private onCertificate(body: Buffer): void {
    const suite = cipherSuiteById(this.suiteId)!;
    const keyType = suite.keyExchange === 'ecdhe_ecdsa' ? 'ec' : 'rsa';
    const peer = acceptPeerCertificate(this.host.options, body, keyType);
    if (peer === undefined) {
      throw fatal(
        DtlsErrorCode.badCertificate,
        AlertDescription.badCertificate,
        'server sent no certificate',
      );
    }
    this.remoteCertificate = peer.der;
    this.serverKey = peer.key;
    this.state = 'wait-server-key-exchange';
  }

  private onServerKeyExchange(body: Buffer): void {
    const ske = decodeServerKeyExchange(body);
    if (ske === undefined) throw decodeFailure('ServerKeyExchange');
    const o = this.host.options;
    if (ske.curveType !== EcCurveType.namedCurve || !o.groups.includes(ske.namedGroup)) {
      throw fatal(
        DtlsErrorCode.illegalParameter,
        AlertDescription.illegalParameter,
        `server chose group ${ske.namedGroup} we did not offer`,
      );
    }
    if (!o.signatureSchemes.includes(ske.signatureScheme)) {
      throw fatal(
        DtlsErrorCode.illegalParameter,
        AlertDescription.illegalParameter,
        `server signed with scheme 0x${ske.signatureScheme.toString(16)} we did not offer`,
      );
    }
    const signed = serverKeyExchangeSignedData(this.random, this.serverRandom!, ske);
    if (!verifySignature(ske.signatureScheme, this.serverKey!, signed, ske.signature)) {
      throw fatal(
        DtlsErrorCode.badServerKeyExchangeSignature,
        AlertDescription.decryptError,
        'ServerKeyExchange signature does not verify with the server certificate',
      );
    }
    const share = generateKeyShare(ske.namedGroup);
    const preMaster = share.computeSecret(ske.publicKey);
    if (preMaster === undefined) {
      throw fatal(
        DtlsErrorCode.badKeyShare,
        AlertDescription.illegalParameter,
        'server ECDHE public value is invalid',
      );
    }
    this.share = share;
    this.preMaster = preMaster;
    this.state = 'wait-hello-done';
  }

  private onCertificateRequest(body: Buffer): void {
    const cr = decodeCertificateRequest(body);
    if (cr === undefined) throw decodeFailure('CertificateRequest');
    const key = this.host.options.certificate.privateKey;
    const type =
      key.asymmetricKeyType === 'ec'
        ? ClientCertificateType.ecdsaSign
        : ClientCertificateType.rsaSign;
    const scheme = pickSignatureScheme(schemesForKey(key), cr.signatureSchemes);
    if (!cr.certificateTypes.includes(type) || scheme === undefined) {
      throw fatal(
        DtlsErrorCode.noCommonParameters,
        AlertDescription.handshakeFailure,
        'the server accepts no certificate we can sign with',
      );
    }
    this.certificateRequested = true;
    this.clientScheme = scheme;
  }

  private sendFlight5(now: number): void {
    const o = this.host.options;
    const suite = cipherSuiteById(this.suiteId)!;
    const out: FlightMessage[] = [];
    const add = (msgType: number, body: Buffer): void => {
      const seq = this.sendSeq++;
      this.transcript.add(msgType, seq, body);
      out.push(handshakeMessage(0, msgType, seq, body));
    };
    if (this.certificateRequested) {
      add(HandshakeType.certificate, encodeCertificate({ certificates: [o.certificate.der] }));
    }
    add(
      HandshakeType.clientKeyExchange,
      encodeClientKeyExchange({ publicKey: this.share!.publicKey }),
    );
    // RFC 7627 §4: the session hash covers the transcript through ClientKeyExchange.
    const master = extendedMasterSecret(
      suite.hash,
      this.preMaster!,
      this.transcript.hash(suite.hash),
    );
    if (this.certificateRequested) {
      const scheme = this.clientScheme!;
      const signature = sign(scheme, o.certificate.privateKey, this.transcript.bytes());
      add(
        HandshakeType.certificateVerify,
        encodeCertificateVerify({ signatureScheme: scheme, signature }),
      );
    }
    this.sessionKeys = {
      suite,
      master,
      clientRandom: this.random,
      serverRandom: this.serverRandom!,
    };
    this.host.installKeys(this.sessionKeys);
    out.push({ kind: 'change-cipher-spec', epoch: 0 });
    const finished = verifyData(suite.hash, master, 'client', this.transcript.hash(suite.hash));
    const seq = this.sendSeq++;
    const body = encodeFinished({ verifyData: finished });
    this.transcript.add(HandshakeType.finished, seq, body);
    out.push(handshakeMessage(1, HandshakeType.finished, seq, body));
    this.preMaster = undefined;
    this.state = 'wait-finished';
    this.host.sendFlight(out, true, now);
  }

  private onFinished(msg: HandshakeMessage, now: number): void {
    const f = decodeFinished(msg.body);
    if (f === undefined) throw decodeFailure('Finished');
    const keys = this.sessionKeys!;
    const expected = verifyData(
      keys.suite.hash,
      keys.master,
      'server',
      this.transcript.hash(keys.suite.hash),
    );
    if (!sameBytes(expected, f.verifyData)) {
      throw fatal(
        DtlsErrorCode.badFinished,
        AlertDescription.decryptError,
        'server Finished does not match the transcript',
      );
    }
    this.state = 'done';
    this.host.complete(now);
  }
}
