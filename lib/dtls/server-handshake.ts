/**
 * The server side of the DTLS 1.2 handshake (RFC 6347 §4.2, RFC 5246 §7.3), ECDHE only. The
 * cookie exchange happens before this object exists (server-listener.ts, statelessly), so it
 * starts at the ClientHello that carries a valid cookie (or the first one, without listener).
 *
 *   ← ClientHello
 *   → ServerHello, Certificate, ServerKeyExchange, CertificateRequest?, ServerHelloDone
 *   ← Certificate?, ClientKeyExchange, CertificateVerify?, [CCS], Finished
 *   → [CCS], Finished
 *
 * The client's certificate is required by default (WebRTC); its CertificateVerify, its
 * fingerprint and its Finished are all checked.
 */
import type { KeyObject } from 'node:crypto';
import { type CipherSuite, cipherSuiteById } from './cipher-suites.js';
import {
  AlertDescription,
  ClientCertificateType,
  COMPRESSION_NULL,
  DTLS1_2,
  EcPointFormat,
  ExtensionType,
  HandshakeType,
} from './constants.js';
import { generateKeyShare, type KeyShare, NamedGroup } from './ecdhe.js';
import { DtlsErrorCode } from './errors.js';
import {
  decodeEcPointFormats,
  decodeSignatureAlgorithms,
  decodeSupportedGroups,
  decodeUseSrtp,
  type Extension,
  encodeEcPointFormats,
  encodeExtendedMasterSecret,
  encodeRenegotiationInfo,
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
import { encodeCertificateRequest } from './messages/certificate-request.js';
import { decodeCertificateVerify } from './messages/certificate-verify.js';
import { type ClientHello, decodeClientHello } from './messages/client-hello.js';
import { decodeClientKeyExchange } from './messages/client-key-exchange.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import { encodeServerHello } from './messages/server-hello.js';
import { encodeServerHelloDone } from './messages/server-hello-done.js';
import {
  encodeServerKeyExchange,
  serverKeyExchangeSignedData,
} from './messages/server-key-exchange.js';
import { schemesForKey, sign, verifySignature } from './signature.js';
import { HandshakeTranscript } from './transcript.js';

type ServerState =
  | 'wait-client-hello'
  | 'wait-certificate'
  | 'wait-client-key-exchange'
  | 'wait-certificate-verify'
  | 'wait-finished'
  | 'done';

export class ServerHandshake implements HandshakeDriver {
  private state: ServerState = 'wait-client-hello';
  private readonly transcript = new HandshakeTranscript();
  private readonly random = newRandom();
  private clientRandom: Buffer | undefined;
  private sendSeq = 0;
  private suite: CipherSuite | undefined;
  private share: KeyShare | undefined;
  private clientKey: KeyObject | undefined;
  private sessionKeys: SessionKeys | undefined;
  remoteCertificate: Buffer | undefined;
  srtpProfile: number | undefined;

  constructor(private readonly host: HandshakeHost) {}

  get keysReady(): boolean {
    return this.sessionKeys !== undefined;
  }

  get keys(): SessionKeys | undefined {
    return this.state === 'done' ? this.sessionKeys : undefined;
  }

  start(): void {
    // the client speaks first
  }

  handle(msg: HandshakeMessage, now: number): void {
    const t = HandshakeType;
    switch (this.state) {
      case 'wait-client-hello':
        if (msg.msgType !== t.clientHello) throw unexpected('expected ClientHello');
        this.onClientHello(msg, now);
        return;
      case 'wait-certificate':
        if (msg.msgType !== t.certificate) throw unexpected('expected client Certificate');
        this.record(msg, () => this.onCertificate(msg.body));
        return;
      case 'wait-client-key-exchange':
        if (msg.msgType !== t.clientKeyExchange) throw unexpected('expected ClientKeyExchange');
        this.onClientKeyExchange(msg);
        return;
      case 'wait-certificate-verify':
        if (msg.msgType !== t.certificateVerify) throw unexpected('expected CertificateVerify');
        this.record(msg, () => this.onCertificateVerify(msg.body));
        return;
      case 'wait-finished':
        if (msg.msgType !== t.finished) throw unexpected('expected Finished');
        if (this.host.readEpoch === 0) throw unexpected('Finished before ChangeCipherSpec');
        this.onFinished(msg, now);
        return;
      case 'done':
        // (renegotiation requests are refused by the connection before they get here)
        throw unexpected(`handshake message ${msg.msgType} after the handshake`);
    }
  }

  private record(msg: HandshakeMessage, fn: () => void): void {
    // The transcript for CertificateVerify ends before it: hash first, then add.
    fn();
    this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
  }

  private onClientHello(msg: HandshakeMessage, now: number): void {
    const ch = decodeClientHello(msg.body);
    if (ch === undefined) throw decodeFailure('ClientHello');
    // DTLS versions count down: 0xfefd (1.2) < 0xfeff (1.0). A 1.3 client still says 1.2 here.
    if (ch.clientVersion > DTLS1_2) {
      throw fatal(
        DtlsErrorCode.protocolVersion,
        AlertDescription.protocolVersion,
        `client offers DTLS 0x${ch.clientVersion.toString(16)} only`,
      );
    }
    if (!ch.compressionMethods.includes(COMPRESSION_NULL)) {
      throw fatal(
        DtlsErrorCode.illegalParameter,
        AlertDescription.illegalParameter,
        'no null compression',
      );
    }
    requireExtendedMasterSecret(ch.extensions);
    checkRenegotiationInfo(ch.extensions);
    const suite = this.pickSuite(ch);
    const group = this.pickGroup(ch);
    const scheme = this.pickScheme(ch);
    const extensions: Extension[] = [encodeExtendedMasterSecret(), encodeRenegotiationInfo()];
    const profile = this.pickSrtpProfile(ch);
    if (profile !== undefined) {
      this.srtpProfile = profile;
      extensions.push(encodeUseSrtp({ profiles: [profile], mki: Buffer.alloc(0) }));
    }
    if (findExtension(ch.extensions, ExtensionType.ecPointFormats) !== undefined) {
      extensions.push(encodeEcPointFormats([EcPointFormat.uncompressed]));
    }
    this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
    this.clientRandom = Buffer.from(ch.random);
    this.suite = suite;
    // RFC 6347 §4.2.2: our message_seq follows the ClientHello's (1 after a cookie exchange).
    this.sendSeq = msg.messageSeq;
    const o = this.host.options;
    const share = generateKeyShare(group);
    this.share = share;
    const params = { namedGroup: group, publicKey: share.publicKey };
    const signed = serverKeyExchangeSignedData(this.clientRandom, this.random, params);
    const signature = sign(scheme, o.certificate.privateKey, signed);
    const out: FlightMessage[] = [];
    const add = (msgType: number, body: Buffer): void => {
      const seq = this.sendSeq++;
      this.transcript.add(msgType, seq, body);
      out.push(handshakeMessage(0, msgType, seq, body));
    };
    add(
      HandshakeType.serverHello,
      encodeServerHello({
        serverVersion: DTLS1_2,
        random: this.random,
        sessionId: Buffer.alloc(0),
        cipherSuite: suite.id,
        compressionMethod: COMPRESSION_NULL,
        extensions,
      }),
    );
    add(HandshakeType.certificate, encodeCertificate({ certificates: [o.certificate.der] }));
    add(
      HandshakeType.serverKeyExchange,
      encodeServerKeyExchange({
        curveType: 3,
        namedGroup: group,
        publicKey: share.publicKey,
        signatureScheme: scheme,
        signature,
      }),
    );
    if (o.requireClientCertificate) {
      add(
        HandshakeType.certificateRequest,
        encodeCertificateRequest({
          certificateTypes: [ClientCertificateType.ecdsaSign, ClientCertificateType.rsaSign],
          signatureSchemes: [...o.signatureSchemes],
          authorities: [],
        }),
      );
    }
    add(HandshakeType.serverHelloDone, encodeServerHelloDone());
    this.state = o.requireClientCertificate ? 'wait-certificate' : 'wait-client-key-exchange';
    this.host.sendFlight(out, true, now);
  }

  private pickSuite(ch: ClientHello): CipherSuite {
    const keyType = this.host.options.certificate.privateKey.asymmetricKeyType;
    const kx = keyType === 'ec' ? 'ecdhe_ecdsa' : 'ecdhe_rsa';
    for (const id of this.host.options.cipherSuites) {
      const s = cipherSuiteById(id);
      if (s !== undefined && s.keyExchange === kx && ch.cipherSuites.includes(id)) return s;
    }
    throw fatal(
      DtlsErrorCode.noCommonParameters,
      AlertDescription.handshakeFailure,
      'no cipher suite in common',
    );
  }

  private pickGroup(ch: ClientHello): number {
    const ext = findExtension(ch.extensions, ExtensionType.supportedGroups);
    const ours = this.host.options.groups;
    // RFC 8422 §4: no supported_groups means the client accepts any; P-256 is the safe pick.
    if (ext === undefined) {
      if (ours.includes(NamedGroup.secp256r1)) return NamedGroup.secp256r1;
      return ours[0]!;
    }
    const theirs = decodeSupportedGroups(ext.data);
    if (theirs === undefined) throw decodeFailure('supported_groups');
    const g = ours.find((x) => theirs.includes(x));
    if (g === undefined) {
      throw fatal(
        DtlsErrorCode.noCommonParameters,
        AlertDescription.handshakeFailure,
        'no group in common',
      );
    }
    const pf = findExtension(ch.extensions, ExtensionType.ecPointFormats);
    if (pf !== undefined) {
      const formats = decodeEcPointFormats(pf.data);
      if (formats === undefined) throw decodeFailure('ec_point_formats');
      if (!formats.includes(EcPointFormat.uncompressed)) {
        throw fatal(
          DtlsErrorCode.illegalParameter,
          AlertDescription.illegalParameter,
          'no uncompressed points',
        );
      }
    }
    return g;
  }

  private pickScheme(ch: ClientHello): number {
    const ext = findExtension(ch.extensions, ExtensionType.signatureAlgorithms);
    let theirs: number[] | undefined;
    if (ext !== undefined) {
      theirs = decodeSignatureAlgorithms(ext.data);
      if (theirs === undefined) throw decodeFailure('signature_algorithms');
    }
    const ours = schemesForKey(this.host.options.certificate.privateKey);
    const s = pickSignatureScheme(ours, theirs);
    if (s === undefined) {
      throw fatal(
        DtlsErrorCode.noCommonParameters,
        AlertDescription.handshakeFailure,
        'no signature scheme in common',
      );
    }
    return s;
  }

  /** RFC 5764 §4.1.1: the server picks by its own preference among the client's. */
  private pickSrtpProfile(ch: ClientHello): number | undefined {
    const ext = findExtension(ch.extensions, ExtensionType.useSrtp);
    if (ext === undefined) return undefined;
    const v = decodeUseSrtp(ext.data);
    if (v === undefined) throw decodeFailure('use_srtp');
    return this.host.options.srtpProfiles.find((p) => v.profiles.includes(p));
  }

  private onCertificate(body: Buffer): void {
    const peer = acceptPeerCertificate(this.host.options, body, undefined);
    if (peer === undefined) {
      throw fatal(
        DtlsErrorCode.badCertificate,
        AlertDescription.handshakeFailure,
        'client sent no certificate but one is required',
      );
    }
    if (peer.key.asymmetricKeyType !== 'ec' && peer.key.asymmetricKeyType !== 'rsa') {
      throw fatal(
        DtlsErrorCode.badCertificate,
        AlertDescription.unsupportedCertificate,
        `client certificate key type ${peer.key.asymmetricKeyType} is not supported`,
      );
    }
    this.remoteCertificate = peer.der;
    this.clientKey = peer.key;
    this.state = 'wait-client-key-exchange';
  }

  private onClientKeyExchange(msg: HandshakeMessage): void {
    const cke = decodeClientKeyExchange(msg.body);
    if (cke === undefined) throw decodeFailure('ClientKeyExchange');
    const preMaster = this.share!.computeSecret(cke.publicKey);
    if (preMaster === undefined) {
      throw fatal(
        DtlsErrorCode.badKeyShare,
        AlertDescription.illegalParameter,
        'client ECDHE public value is invalid',
      );
    }
    this.share = undefined;
    // RFC 7627 §4: the session hash covers the transcript through ClientKeyExchange.
    this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
    const suite = this.suite!;
    const master = extendedMasterSecret(suite.hash, preMaster, this.transcript.hash(suite.hash));
    this.sessionKeys = {
      suite,
      master,
      clientRandom: this.clientRandom!,
      serverRandom: this.random,
    };
    this.host.installKeys(this.sessionKeys);
    this.state = this.clientKey !== undefined ? 'wait-certificate-verify' : 'wait-finished';
  }

  private onCertificateVerify(body: Buffer): void {
    const cv = decodeCertificateVerify(body);
    if (cv === undefined) throw decodeFailure('CertificateVerify');
    if (!this.host.options.signatureSchemes.includes(cv.signatureScheme)) {
      throw fatal(
        DtlsErrorCode.illegalParameter,
        AlertDescription.illegalParameter,
        'CertificateVerify scheme we did not offer',
      );
    }
    if (
      !verifySignature(cv.signatureScheme, this.clientKey!, this.transcript.bytes(), cv.signature)
    ) {
      throw fatal(
        DtlsErrorCode.badCertificateVerify,
        AlertDescription.decryptError,
        'CertificateVerify does not verify with the client certificate',
      );
    }
    this.state = 'wait-finished';
  }

  private onFinished(msg: HandshakeMessage, now: number): void {
    const f = decodeFinished(msg.body);
    if (f === undefined) throw decodeFailure('Finished');
    const keys = this.sessionKeys!;
    const hash = keys.suite.hash;
    const expected = verifyData(hash, keys.master, 'client', this.transcript.hash(hash));
    if (!sameBytes(expected, f.verifyData)) {
      throw fatal(
        DtlsErrorCode.badFinished,
        AlertDescription.decryptError,
        'client Finished does not match the transcript',
      );
    }
    this.transcript.add(msg.msgType, msg.messageSeq, msg.body);
    const ours = verifyData(hash, keys.master, 'server', this.transcript.hash(hash));
    const seq = this.sendSeq++;
    const body = encodeFinished({ verifyData: ours });
    this.transcript.add(HandshakeType.finished, seq, body);
    this.state = 'done';
    this.host.sendFlight(
      [
        { kind: 'change-cipher-spec', epoch: 0 },
        handshakeMessage(1, HandshakeType.finished, seq, body),
      ],
      false,
      now,
    );
    this.host.complete(now);
  }
}
