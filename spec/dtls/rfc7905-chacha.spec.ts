/**
 * Record protection against OpenSSL's own records: s_client and s_server talk DTLS 1.2
 * through a recording UDP relay; from the client's key log (master secret) and the captured
 * hellos (randoms) we derive the key block ourselves and must open every encrypted record
 * either side sent — both Finished messages and the application data — for AES-128-GCM,
 * AES-256-GCM (RFC 5288) and ChaCha20-Poly1305 (RFC 7905). ChaCha20-Poly1305 has no explicit
 * nonce, so our seal() of the same plaintext must also reproduce OpenSSL's bytes exactly.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cipherSuiteById } from '../../lib/dtls/cipher-suites.js';
import { keyBlock } from '../../lib/dtls/key-schedule.js';
import { type DtlsRecord, readRecords } from '../../lib/dtls/record.js';
import { RecordProtection } from '../../lib/dtls/record-protection.js';

interface Captured {
  fromClient: Buffer[];
  fromServer: Buffer[];
}

/** A UDP relay on 127.0.0.1 that forwards to `serverPort` and keeps every datagram. */
async function relay(serverPort: number) {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  const captured: Captured = { fromClient: [], fromServer: [] };
  let client: { address: string; port: number } | undefined;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    captured.fromClient.push(Buffer.from(msg));
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    captured.fromServer.push(Buffer.from(msg));
    if (client !== undefined) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    captured,
    close: () => {
      front.close();
      back.close();
    },
  };
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function collect(p: ChildProcessWithoutNullStreams): { text: string } {
  const out = { text: '' };
  p.stdout.on('data', (d: Buffer) => {
    out.text += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    out.text += d.toString();
  });
  return out;
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function records(datagrams: Buffer[]): DtlsRecord[] {
  return datagrams.flatMap((d) => [...readRecords(d)]);
}

/** The 32-byte random of the first epoch-0 handshake record whose message is `msgType`. */
function helloRandom(recs: DtlsRecord[], msgType: number): Buffer {
  const r = recs.find((x) => x.type === 22 && x.epoch === 0 && x.fragment[0] === msgType);
  if (r === undefined) throw new Error(`no handshake message ${msgType}`);
  return r.fragment.subarray(14, 46); // 12-byte handshake header, 2-byte version
}

const CASES = [
  { cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', id: 0xc02b },
  { cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384', id: 0xc02c },
  { cipher: 'ECDHE-ECDSA-CHACHA20-POLY1305', id: 0xcca9 },
];

t.test('we open every encrypted record OpenSSL sends, in both directions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-ossl-records-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'c.pem');
  const key = join(dir, 'k.pem');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=records',
      '-days',
      '2',
    ]);
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl req ${code}`))));
  });
  for (const c of CASES) {
    const suite = cipherSuiteById(c.id)!;
    const serverPort = await freePort();
    const keylog = join(dir, `keylog-${c.id}.txt`);
    const server = spawn('openssl', [
      's_server',
      '-dtls1_2',
      '-accept',
      `127.0.0.1:${serverPort}`,
      '-cert',
      cert,
      '-key',
      key,
      '-cipher',
      c.cipher,
    ]);
    const serverOut = collect(server);
    const r = await relay(serverPort);
    let client: ChildProcessWithoutNullStreams | undefined;
    try {
      await until('s_server', () => serverOut.text.includes('ACCEPT'));
      client = spawn('openssl', [
        's_client',
        '-dtls1_2',
        '-connect',
        `127.0.0.1:${r.port}`,
        '-keylogfile',
        keylog,
      ]);
      const clientOut = collect(client);
      await until('handshake', () => clientOut.text.includes('Cipher is'));
      client.stdin.write('hello from the client\n');
      await until('client data', () => serverOut.text.includes('hello from the client'));
      server.stdin.write('hello from the server\n');
      await until('server data', () => clientOut.text.includes('hello from the server'));
    } finally {
      client?.kill();
      server.kill();
      r.close();
    }
    const line = readFileSync(keylog, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CLIENT_RANDOM '));
    const master = Buffer.from(line!.split(' ')[2]!, 'hex');
    const fromClient = records(r.captured.fromClient);
    const fromServer = records(r.captured.fromServer);
    const clientRandom = helloRandom(fromClient, 1);
    const serverRandom = helloRandom(fromServer, 2);
    t.same(clientRandom.toString('hex'), line!.split(' ')[1], 'client random matches the key log');
    const kb = keyBlock(suite, master, clientRandom, serverRandom);
    const sides = [
      {
        name: 'client',
        recs: fromClient,
        rp: new RecordProtection(suite, kb.clientWriteKey, kb.clientWriteIv),
        text: 'hello from the client\n',
      },
      {
        name: 'server',
        recs: fromServer,
        rp: new RecordProtection(suite, kb.serverWriteKey, kb.serverWriteIv),
        text: 'hello from the server\n',
      },
    ];
    for (const s of sides) {
      const encrypted = s.recs.filter((x) => x.epoch === 1);
      const opened = encrypted.map((x) =>
        s.rp.open(x.type, x.version, x.epoch, x.sequenceNumber, x.fragment),
      );
      t.ok(encrypted.length >= 2, `${c.cipher} ${s.name}: Finished and data records captured`);
      t.ok(
        opened.every((o) => o !== undefined),
        `${c.cipher} ${s.name}: all ${encrypted.length} records open`,
      );
      const finished = opened[encrypted.findIndex((x) => x.type === 22)];
      t.equal(finished?.[0], 20, 'the first encrypted handshake record is Finished');
      t.equal(finished?.readUIntBE(1, 3), 12, 'with 12 bytes of verify_data');
      const dataIndex = encrypted.findIndex((x) => x.type === 23);
      t.equal(opened[dataIndex]?.toString(), s.text, 'application data');
      if (suite.explicitNonceLength === 0) {
        const x = encrypted[dataIndex]!;
        t.same(
          s.rp.seal(x.type, x.version, x.epoch, x.sequenceNumber, Buffer.from(s.text)),
          x.fragment,
          "our seal reproduces OpenSSL's record byte for byte",
        );
      }
    }
  }
});
