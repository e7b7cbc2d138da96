import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { TurnClient, type TurnClientOptions } from '../../lib/turn/client.js';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import { TurnServer } from '../../lib/turn/server.js';
import { RecordingObserver } from './core-fixture.js';

/** Real-socket helpers for the TurnServer specs: everything on 127.0.0.1, ports from 0. */

export const USER = 'alice';
export const PASSWORD = 'alice-pw';
export const SECRET = 'rest-secret';

export interface Running {
  server: TurnServer;
  observer: RecordingObserver;
}

export async function startServer(options: TurnServerOptions = {}): Promise<Running> {
  const observer = new RecordingObserver();
  const server = new TurnServer(
    {
      listen: [{ host: '127.0.0.1', port: 0 }],
      realm: 'rtcd.test',
      users: { [USER]: PASSWORD },
      authSecrets: [SECRET],
      allowLoopbackPeers: true,
      minPort: 40000,
      maxPort: 60000,
      drainTimeoutMs: 0,
      ...options,
    },
    { observer },
  );
  await server.start();
  return { server, observer };
}

export function connectClient(
  server: TurnServer,
  transport: 'udp' | 'tcp' | 'tls' = 'udp',
  extra: Partial<TurnClientOptions> = {},
): Promise<TurnClient> {
  const list = server.addresses[transport];
  const address = list[0];
  if (!address) throw new Error(`no ${transport} listener`);
  return TurnClient.connect({
    server: { host: address.host, port: address.port },
    transport,
    username: USER,
    password: PASSWORD,
    localAddress: '127.0.0.1',
    rtoMs: 100,
    closeTimeoutMs: 300,
    ...extra,
  });
}

/** A plain UDP peer on 127.0.0.1. */
export class Peer {
  readonly socket: Socket = createSocket('udp4');
  address: TransportAddress = { family: 4, address: '127.0.0.1', port: 0 };

  static async open(): Promise<Peer> {
    const peer = new Peer();
    peer.socket.bind(0, '127.0.0.1');
    await once(peer.socket, 'listening');
    peer.address = { family: 4, address: '127.0.0.1', port: peer.socket.address().port };
    return peer;
  }

  /** The next datagram and where it came from. */
  async receive(): Promise<{ data: Buffer; from: TransportAddress }> {
    const [data, rinfo] = await once(this.socket, 'message');
    return { data, from: { family: 4, address: rinfo.address, port: rinfo.port } };
  }

  send(to: TransportAddress, data: Buffer): void {
    this.socket.send(data, to.port, to.address);
  }

  close(): void {
    this.socket.close();
  }
}

/** The next `data` event of a client. */
export async function nextData(
  client: TurnClient,
): Promise<{ peer: TransportAddress; data: Buffer }> {
  const [peer, data] = await once(client, 'data');
  return { peer, data };
}

/** Resolves when `check` is true, polling; rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A self-signed P-256 certificate for CN=localhost in a fresh temp dir. */
export async function makeCertificate(
  dir?: string,
): Promise<{ dir: string; cert: string; key: string }> {
  const where = dir ?? (await mkdtemp(join(tmpdir(), 'rtcd-tls-')));
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const cert = join(where, `cert-${stamp}.pem`);
  const key = join(where, `key-${stamp}.pem`);
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { dir: where, cert, key };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
