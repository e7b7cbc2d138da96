/**
 * werift 0.24's DTLS (DtlsServer / DtlsClient) as a peer over a real UDP socket on 127.0.0.1.
 * werift is a dev dependency used as a test peer only. Usage:
 *
 *   const peer = await startWeriftServer({ certPem, keyPem });    // listens on peer.port
 *   … our client handshakes with 127.0.0.1:peer.port …
 *   await peer.connected;  peer.send(Buffer.from('hi'));  await peer.nextData();
 *
 *   const client = await startWeriftClient(ourPort, { certPem, keyPem });  // connects at once
 */
import dgram from 'node:dgram';
import { DtlsClient, DtlsServer, type DtlsSocket } from 'werift';

type Options = ConstructorParameters<typeof DtlsServer>[0];

export interface WeriftPeerOptions {
  certPem: string;
  keyPem: string;
  /** SRTP profiles werift offers/accepts (it knows 1 = AES128_CM_SHA1_80 and 7 = AEAD_AES_128_GCM). */
  srtpProfiles?: (1 | 7)[];
  /** werift's `extendedMasterSecret` option. Default true. */
  extendedMasterSecret?: boolean;
  /** Server: send a CertificateRequest. Default true. */
  certificateRequest?: boolean;
  /** 'ecdsa' (default) or 'rsa' for the signature werift makes with `keyPem`. */
  signature?: 'ecdsa' | 'rsa';
}

export interface WeriftPeer {
  readonly port: number;
  readonly dtls: DtlsSocket;
  /** Resolves when werift reports the handshake done. */
  readonly connected: Promise<void>;
  /** Application data received so far. */
  readonly received: Buffer[];
  /** Resolves with the next application data message (or one already queued). */
  nextData(timeoutMs?: number): Promise<Buffer>;
  send(data: Buffer): Promise<void>;
  exportKeyingMaterial(label: string, length: number): Buffer;
  /** Errors werift reported. */
  readonly errors: Error[];
  close(): Promise<void>;
}

interface WeriftAddress {
  0: string;
  1: number;
}

/** A werift `Transport` over a dgram socket; it sends to `remote` or to whoever spoke last. */
class UdpPeerTransport {
  readonly type = 'udp';
  closed = false;
  onData: (data: Buffer, addr: WeriftAddress) => void = () => {};
  remote: { address: string; port: number } | undefined;

  constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data, rinfo) => {
      this.remote ??= { address: rinfo.address, port: rinfo.port };
      try {
        this.onData(data, [rinfo.address, rinfo.port]);
      } catch {
        // werift throws on some inputs; the test sees the missing handshake instead
      }
    });
  }

  get address(): { address: string; family: string; port: number } {
    return this.socket.address();
  }

  send = async (data: Buffer): Promise<void> => {
    const remote = this.remote;
    if (remote === undefined || this.closed) return;
    await new Promise<void>((resolve) => {
      this.socket.send(data, remote.port, remote.address, () => resolve());
    });
  };

  close = async (): Promise<void> => {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  };
}

async function bindSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return socket;
}

function weriftOptions(options: WeriftPeerOptions, transport: UdpPeerTransport): Options {
  const ecdsa = (options.signature ?? 'ecdsa') === 'ecdsa';
  return {
    transport,
    cert: options.certPem,
    key: options.keyPem,
    // werift's SignatureHash: hash sha256 = 4; signature rsa = 1, ecdsa = 3
    signatureHash: { hash: 4, signature: ecdsa ? 3 : 1 } as const,
    srtpProfiles: options.srtpProfiles ?? [7, 1],
    certificateRequest: options.certificateRequest ?? true,
    extendedMasterSecret: options.extendedMasterSecret ?? true,
  };
}

function wrap(dtls: DtlsSocket, transport: UdpPeerTransport): WeriftPeer {
  const received: Buffer[] = [];
  const errors: Error[] = [];
  let waiter: ((b: Buffer) => void) | undefined;
  dtls.onData.subscribe((b: Buffer) => {
    if (waiter !== undefined) {
      const w = waiter;
      waiter = undefined;
      w(b);
    } else {
      received.push(b);
    }
  });
  dtls.onError.subscribe((e: Error) => errors.push(e));
  const connected = new Promise<void>((resolve) => dtls.onConnect.once(() => resolve()));
  return {
    port: transport.address.port,
    dtls,
    connected,
    received,
    errors,
    nextData: (timeoutMs = 15_000) => {
      const queued = received.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no data from werift')), timeoutMs);
        waiter = (b) => {
          clearTimeout(timer);
          resolve(b);
        };
      });
    },
    send: (data) => dtls.send(data),
    exportKeyingMaterial: (label, length) => dtls.exportKeyingMaterial(label, length),
    close: async () => {
      try {
        dtls.close();
      } catch {
        // already closed
      }
      await transport.close();
    },
  };
}

/** A werift DtlsServer listening on 127.0.0.1:port (answers whoever sends first). */
export async function startWeriftServer(options: WeriftPeerOptions): Promise<WeriftPeer> {
  const transport = new UdpPeerTransport(await bindSocket());
  const server = new DtlsServer(weriftOptions(options, transport));
  return wrap(server, transport);
}

/** A werift DtlsClient that connects to 127.0.0.1:port at once. */
export async function startWeriftClient(
  port: number,
  options: WeriftPeerOptions,
): Promise<WeriftPeer> {
  const transport = new UdpPeerTransport(await bindSocket());
  transport.remote = { address: '127.0.0.1', port };
  const client = new DtlsClient(weriftOptions(options, transport));
  const peer = wrap(client, transport);
  client.connect().catch((err: unknown) => {
    peer.errors.push(err instanceof Error ? err : new Error(String(err)));
  });
  return peer;
}
