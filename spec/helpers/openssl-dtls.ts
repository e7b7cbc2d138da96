/**
 * OpenSSL's `s_server` / `s_client` as a DTLS 1.2 peer nobody here wrote. Usage:
 *
 *   const creds = await opensslCredentials('ec');            // temp dir, PEM files
 *   const server = await startOpensslServer({ credentials: creds, cipher: 'ECDHE-ECDSA-…' });
 *   t.teardown(() => server.stop());
 *   … handshake with 127.0.0.1:server.port …
 *   const km = await server.keyingMaterial();                  // 60 B EXTRACTOR-dtls_srtp
 *   server.write('hello\n'); await server.waitFor(/from-us/);
 *
 * openssl is required: a missing binary fails the test with a clear error (never a skip).
 * Application data travels as lines through the child's stdin and stdout.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAX_LOG_CHARS = 1 << 20;

/** The SRTP profiles OpenSSL is told to offer/accept, in its preference order. */
export const OPENSSL_SRTP = 'SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80';

export interface OpensslCredentials {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly der: Buffer;
  /** 'AB:CD:…' SHA-256 of the DER, as an SDP fingerprint value. */
  readonly sha256: string;
  /** Removes the temp dir. Idempotent. */
  dispose(): Promise<void>;
}

/** A fresh self-signed certificate made by `openssl req` (ECDSA P-256 or RSA 2048). */
export async function opensslCredentials(kind: 'ec' | 'rsa'): Promise<OpensslCredentials> {
  const dir = await mkdtemp(join(tmpdir(), 'rtcd-ossl-dtls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const keyArgs =
    kind === 'ec'
      ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
      : ['-newkey', 'rsa:2048'];
  await run('openssl', [
    'req',
    '-x509',
    ...keyArgs,
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=rtcd-openssl-peer',
  ]);
  const certPem = await readFile(certPath, 'utf8');
  const keyPem = await readFile(keyPath, 'utf8');
  const der = Buffer.from(new X509Certificate(certPem).raw);
  const sha256 = colonHex(createHash('sha256').update(der).digest());
  let disposed = false;
  return {
    certPath,
    keyPath,
    certPem,
    keyPem,
    der,
    sha256,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function colonHex(b: Buffer): string {
  return (b.toString('hex').toUpperCase().match(/../g) ?? []).join(':');
}

export interface OpensslPeerOptions {
  credentials: OpensslCredentials;
  /** `-cipher` list, e.g. 'ECDHE-ECDSA-AES128-GCM-SHA256'. Default: OpenSSL's default list. */
  cipher?: string;
  /** `-use_srtp` list. Default OPENSSL_SRTP. */
  srtp?: string;
  /** `-curves`/`-groups` list, e.g. 'X25519' or 'P-256'. */
  groups?: string;
  /** Server: ask for a client certificate (`-verify 1`). Default true. */
  requestClientCert?: boolean;
  /** `-mtu` (the link MTU for OpenSSL's own fragmentation). */
  mtu?: number;
  /** Extra arguments, e.g. ['-msg'] to print every protocol message. */
  extraArgs?: string[];
  /** Send no certificate (a client that ignores the server's CertificateRequest). */
  noCertificate?: boolean;
  /** Give up waiting for the child to be ready after this many ms. Default 15000. */
  startTimeoutMs?: number;
}

export interface OpensslPeer {
  /** UDP port: the server's own, or the one the client connects to. */
  readonly port: number;
  /** Everything the child printed (stdout and stderr), for assertions and failure messages. */
  output(): string;
  /**
   * Resolves with the first match of `re` in the output (polls), rejects after `timeoutMs`
   * (default 15000: generous, the test machine is shared).
   */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The 60 bytes of `EXTRACTOR-dtls_srtp` material OpenSSL exported, once the handshake ends. */
  keyingMaterial(timeoutMs?: number): Promise<Buffer>;
  /** OpenSSL's name of the negotiated cipher, once the handshake ends. */
  cipher(timeoutMs?: number): Promise<string>;
  /** Sends `text` as application data (OpenSSL sends what it reads from stdin). */
  write(text: string): void;
  /** Resolves when the child exits. */
  readonly exited: Promise<number | null>;
  /** Kills the child. Idempotent. */
  stop(): Promise<void>;
}

/** `openssl s_server -dtls1_2 …` on 127.0.0.1, one connection (`-naccept 1`). */
export async function startOpensslServer(options: OpensslPeerOptions): Promise<OpensslPeer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freeUdpPort();
    const args = ['s_server', '-accept', `127.0.0.1:${port}`, '-naccept', '1'];
    if (options.requestClientCert ?? true) args.push('-verify', '1');
    try {
      return await spawnPeer(args, options, port, /^ACCEPT$/m);
    } catch (err) {
      lastError = err; // most likely the port was taken between probing and binding
    }
  }
  throw lastError;
}

/** `openssl s_client -dtls1_2 -connect 127.0.0.1:port …`; starts the handshake at once. */
export async function startOpensslClient(
  port: number,
  options: OpensslPeerOptions,
): Promise<OpensslPeer> {
  return spawnPeer(['s_client', '-connect', `127.0.0.1:${port}`], options, port, undefined);
}

async function spawnPeer(
  base: string[],
  options: OpensslPeerOptions,
  port: number,
  ready: RegExp | undefined,
): Promise<OpensslPeer> {
  const { credentials } = options;
  const args = [
    ...base,
    '-dtls1_2',
    '-use_srtp',
    options.srtp ?? OPENSSL_SRTP,
    '-keymatexport',
    'EXTRACTOR-dtls_srtp',
    '-keymatexportlen',
    '60',
  ];
  if (!options.noCertificate) args.push('-cert', credentials.certPath, '-key', credentials.keyPath);
  args.push(...(options.extraArgs ?? []));
  if (options.cipher !== undefined) args.push('-cipher', options.cipher);
  if (options.groups !== undefined) args.push('-groups', options.groups);
  if (options.mtu !== undefined) args.push('-mtu', String(options.mtu));
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  const append = (chunk: Buffer): void => {
    if (log.length < MAX_LOG_CHARS) log += chunk.toString('latin1');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.stdin?.on('error', () => {}); // EPIPE when the child has gone: the test sees the output
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`openssl could not start: ${err.message}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
  };
  const waitFor = async (re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = log.match(re);
      if (m !== null) return m;
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        const why = Date.now() > deadline ? `timed out after ${timeoutMs} ms` : 'openssl exited';
        throw new Error(`${why} waiting for ${re}; args: ${args.join(' ')}\n${log}`);
      }
      await Promise.race([sleep(20), spawnError]);
    }
  };
  if (ready !== undefined) {
    try {
      await waitFor(ready, options.startTimeoutMs ?? 15_000);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return {
    port,
    output: () => log,
    waitFor,
    keyingMaterial: async (timeoutMs) => {
      const m = await waitFor(/Keying material: ([0-9A-F]+)/, timeoutMs);
      return Buffer.from(m[1]!, 'hex');
    },
    cipher: async (timeoutMs) => {
      const m = await waitFor(/(?:CIPHER is|Cipher is) ([A-Z0-9-]+)/, timeoutMs);
      return m[1]!;
    },
    write: (text) => {
      child.stdin?.write(text);
    },
    exited,
    stop,
  };
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** A UDP port free on 127.0.0.1 right now. */
export async function freeUdpPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
