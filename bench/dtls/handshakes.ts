/**
 * Handshake half of `npm run bench -- dtls`: full DTLS 1.2 handshakes per second, in process,
 * no sockets (datagrams are handed over directly, so only the protocol work is timed).
 *
 * Rows (ECDSA P-256 certificates, X25519, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, client
 * certificate requested, as in WebRTC):
 * - server role: one rtcd client drives the server under test; the time spent in that client
 *   is subtracted, so the rate is the server's own. rtcd's server runs behind its stateless
 *   cookie listener; werift's DtlsServer does its own HelloVerifyRequest.
 * - client and server: rtcd client ↔ rtcd server against werift client ↔ werift server.
 * Implementations alternate in rounds (best round counts: a shared 2-core VM is noisy).
 */

import { DtlsClient, DtlsServer } from 'werift';
import { type DtlsCertificate, generateCertificate } from '../../lib/dtls/certificate.js';
import { DtlsConnection } from '../../lib/dtls/connection.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { DtlsServerListener } from '../../lib/dtls/server-listener.js';
import type { HandshakeBenchConfig, HandshakeRow } from './types.js';

const ROUNDS = 3;
/** One full handshake; resolves with the ms spent in the driving rtcd client (0 for pairs). */
type Handshake = () => Promise<number>;

/** Runs `fn` and adds its duration to `acc.ms`. */
function timed<T>(acc: { ms: number }, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    acc.ms += performance.now() - t0;
  }
}

/** rtcd client ↔ rtcd server behind the cookie listener, synchronously. */
function rtcdServerRole(clientCert: DtlsCertificate, server: DtlsCertificate): Handshake {
  const listener = new DtlsServerListener(
    { certificate: server, cookieJar: new CookieJar() },
    { send: (d, _a, port) => inbox.push([port, d]) },
  );
  const inbox: [number, Buffer][] = [];
  let port = 1;
  return async () => {
    port = (port % 60000) + 1;
    const p = port;
    const client = { ms: 0 };
    const toServer: Buffer[] = [];
    let done = false;
    const conn = new DtlsConnection(
      { role: 'client', certificate: clientCert },
      {
        send: (d) => toServer.push(d),
        connected: () => {
          done = true;
        },
      },
    );
    timed(client, () => conn.start(0));
    for (let i = 0; i < 20 && !done; i++) {
      for (const d of toServer.splice(0)) listener.receive(d, '127.0.0.1', p, 0);
      for (const [to, d] of inbox.splice(0)) if (to === p) timed(client, () => conn.receive(d, 0));
    }
    if (!done) throw new Error('rtcd handshake did not complete');
    listener.connection('127.0.0.1', p)?.close();
    return client.ms;
  };
}

/** rtcd client ↔ rtcd server, no listener (the pair row). */
function rtcdPair(client: DtlsCertificate, server: DtlsCertificate): Handshake {
  return async () => {
    const toServer: Buffer[] = [];
    const toClient: Buffer[] = [];
    let done = 0;
    const connected = () => {
      done++;
    };
    const c = new DtlsConnection(
      { role: 'client', certificate: client },
      { send: (d) => toServer.push(d), connected },
    );
    const s = new DtlsConnection(
      { role: 'server', certificate: server },
      { send: (d) => toClient.push(d), connected },
    );
    c.start(0);
    for (let i = 0; i < 20 && done < 2; i++) {
      for (const d of toServer.splice(0)) s.receive(d, 0);
      for (const d of toClient.splice(0)) c.receive(d, 0);
    }
    if (done < 2) throw new Error('rtcd pair did not complete');
    return 0;
  };
}

type WeriftOptions = ConstructorParameters<typeof DtlsServer>[0];
type WeriftTransport = WeriftOptions['transport'];

function memoryTransport(deliver: (d: Buffer) => void): WeriftTransport {
  return {
    type: 'udp',
    address: { address: '127.0.0.1', family: 'IPv4', port: 1 },
    closed: false,
    onData: () => {},
    send: async (d) => {
      // werift's own flights continue asynchronously: hand the datagram over on a microtask
      queueMicrotask(() => deliver(Buffer.from(d)));
    },
    close: async () => {},
  };
}

function pem(c: DtlsCertificate): { certPem: string; keyPem: string } {
  const b64 = c.der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: String(c.privateKey.export({ type: 'pkcs8', format: 'pem' })),
  };
}

function weriftOptions(transport: WeriftTransport, c: DtlsCertificate): WeriftOptions {
  const { certPem, keyPem } = pem(c);
  return {
    transport,
    cert: certPem,
    key: keyPem,
    signatureHash: { hash: 4, signature: 3 } as const,
    srtpProfiles: [7 as const, 1 as const],
    certificateRequest: true,
    extendedMasterSecret: true,
  };
}

/** rtcd client driving a werift DtlsServer. */
function weriftServerRole(clientCert: DtlsCertificate, server: DtlsCertificate): Handshake {
  return () =>
    new Promise<number>((resolve, reject) => {
      let conn: DtlsConnection | undefined;
      const client = { ms: 0 };
      const transport = memoryTransport((d) => timed(client, () => conn?.receive(d, 0)));
      new DtlsServer(weriftOptions(transport, server));
      const timer = setTimeout(() => reject(new Error('werift server handshake timed out')), 5000);
      conn = new DtlsConnection(
        { role: 'client', certificate: clientCert },
        {
          send: (d) => queueMicrotask(() => transport.onData(Buffer.from(d), ['127.0.0.1', 2])),
          connected: () => {
            clearTimeout(timer);
            resolve(client.ms);
          },
          closed: (r) => reject(new Error(`werift server: ${r.error} ${r.message}`)),
        },
      );
      timed(client, () => conn?.start(0));
    });
}

/** werift DtlsClient ↔ werift DtlsServer (the pair row). */
function weriftPair(client: DtlsCertificate, server: DtlsCertificate): Handshake {
  return () =>
    new Promise<number>((resolve, reject) => {
      const ct = memoryTransport((d) => st.onData(d, ['127.0.0.1', 1]));
      const st = memoryTransport((d) => ct.onData(d, ['127.0.0.1', 2]));
      const s = new DtlsServer(weriftOptions(st, server));
      const c = new DtlsClient(weriftOptions(ct, client));
      const timer = setTimeout(() => reject(new Error('werift pair timed out')), 5000);
      let done = 0;
      const one = () => {
        if (++done === 2) {
          clearTimeout(timer);
          resolve(0);
        }
      };
      s.onConnect.once(one);
      c.onConnect.once(one);
      c.connect().catch(reject);
    });
}

/**
 * Handshakes per second of `fn` over about `seconds` (sequential, awaited), not counting the
 * time spent in the driving client: what is left is the side under test.
 */
async function rate(fn: Handshake, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  let n = 0;
  let clientMs = 0;
  do {
    clientMs += await fn();
    n++;
  } while (performance.now() < end);
  return n / ((performance.now() - start - clientMs) / 1000);
}

async function row(
  name: string,
  ours: Handshake,
  theirs: Handshake | undefined,
  seconds: number,
  log: (line: string) => void,
): Promise<HandshakeRow> {
  await ours();
  await theirs?.();
  let best = 0;
  let bestWerift = 0;
  const slice = seconds / ROUNDS;
  for (let r = 0; r < ROUNDS; r++) {
    best = Math.max(best, await rate(ours, slice));
    if (theirs !== undefined) bestWerift = Math.max(bestWerift, await rate(theirs, slice));
  }
  const werift = theirs === undefined ? undefined : bestWerift;
  const ratio =
    werift === undefined ? '' : ` (${(best / werift).toFixed(2)}× werift ${werift.toFixed(0)}/s)`;
  log(`  ${name}: rtcd ${best.toFixed(0)}/s${ratio}`);
  return { name, rtcd: best, werift };
}

export async function runHandshakeBench(
  config: HandshakeBenchConfig,
  log: (line: string) => void,
): Promise<HandshakeRow[]> {
  const [a, b] = await Promise.all([generateCertificate(), generateCertificate()]);
  const rows: HandshakeRow[] = [];
  rows.push(
    await row(
      'server role, ECDSA P-256, X25519, AES-128-GCM',
      rtcdServerRole(a, b),
      config.werift ? weriftServerRole(a, b) : undefined,
      config.seconds,
      log,
    ),
  );
  rows.push(
    await row(
      'client + server pair, ECDSA P-256, X25519, AES-128-GCM',
      rtcdPair(a, b),
      config.werift ? weriftPair(a, b) : undefined,
      config.seconds,
      log,
    ),
  );
  return rows;
}
