/**
 * RFC 5705 keying material exporter and the RFC 5764 §4.2 split of "EXTRACTOR-dtls_srtp".
 * The decisive check runs OpenSSL against itself (s_server and s_client, DTLS 1.2 with
 * use_srtp and EMS), reads the master secret from the client's key log and the randoms from
 * its -msg trace, and requires our exporter to produce OpenSSL's 60 bytes exactly.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { exportKeyingMaterial } from '../../lib/dtls/key-schedule.js';
import { prf } from '../../lib/dtls/prf.js';
import {
  DEFAULT_SRTP_PROFILES,
  isSupportedSrtpProfile,
  SRTP_EXPORTER_LABEL,
  SrtpProtectionProfile,
  splitSrtpKeyingMaterial,
  srtpKeyingMaterialLength,
  srtpKeySizes,
} from '../../lib/dtls/srtp-keys.js';

t.test('exporter seed: randoms, then the context with its length only if given', (t) => {
  const master = randomBytes(48);
  const cr = randomBytes(32);
  const sr = randomBytes(32);
  const plain = exportKeyingMaterial('sha256', master, 'EXPORTER-x', cr, sr, 40);
  t.same(plain, prf('sha256', master, 'EXPORTER-x', Buffer.concat([cr, sr]), 40));
  const empty = exportKeyingMaterial('sha256', master, 'EXPORTER-x', cr, sr, 40, Buffer.alloc(0));
  t.same(empty, prf('sha256', master, 'EXPORTER-x', Buffer.concat([cr, sr, Buffer.alloc(2)]), 40));
  t.notSame(plain, empty, 'no context differs from an empty context');
  const ctx = Buffer.from('abc');
  t.same(
    exportKeyingMaterial('sha384', master, 'EXPORTER-x', cr, sr, 33, ctx),
    prf('sha384', master, 'EXPORTER-x', Buffer.concat([cr, sr, Buffer.from([0, 3]), ctx]), 33),
  );
  for (const label of ['client finished', 'server finished', 'master secret', 'key expansion']) {
    t.throws(() => exportKeyingMaterial('sha256', master, label, cr, sr, 8), TypeError, label);
  }
  t.throws(() =>
    exportKeyingMaterial('sha256', master, 'EXPORTER-x', cr, sr, 8, Buffer.alloc(0x10000)),
  );
  t.end();
});

t.test(
  'SRTP profiles: sizes and the client key ‖ server key ‖ client salt ‖ server salt split',
  (t) => {
    t.equal(srtpKeyingMaterialLength(SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80), 60);
    t.equal(srtpKeyingMaterialLength(SrtpProtectionProfile.AES128_CM_HMAC_SHA1_32), 60);
    t.equal(srtpKeyingMaterialLength(SrtpProtectionProfile.AEAD_AES_128_GCM), 56);
    t.equal(srtpKeyingMaterialLength(SrtpProtectionProfile.AEAD_AES_256_GCM), 88);
    t.same(DEFAULT_SRTP_PROFILES, [7, 8, 1, 2]);
    t.ok(isSupportedSrtpProfile(7));
    t.notOk(isSupportedSrtpProfile(3));
    t.throws(() => srtpKeyingMaterialLength(5), TypeError);
    const m = Buffer.from(Array.from({ length: 88 }, (_, i) => i));
    const k = splitSrtpKeyingMaterial(SrtpProtectionProfile.AEAD_AES_256_GCM, m);
    t.same(
      [...k.clientMasterKey],
      Array.from({ length: 32 }, (_, i) => i),
    );
    t.same(
      [...k.serverMasterKey],
      Array.from({ length: 32 }, (_, i) => 32 + i),
    );
    t.same(
      [...k.clientMasterSalt],
      Array.from({ length: 12 }, (_, i) => 64 + i),
    );
    t.same(
      [...k.serverMasterSalt],
      Array.from({ length: 12 }, (_, i) => 76 + i),
    );
    t.same(srtpKeySizes(1), { keyLength: 16, saltLength: 14 });
    t.throws(() => splitSrtpKeyingMaterial(1, m), TypeError, 'wrong length');
    t.end();
  },
);

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Run {
  server: string;
  client: string;
  keylog: string;
}

/** One s_server/s_client handshake; resolves when both printed their keying material. */
async function opensslPair(dir: string, cipher: string, port: number): Promise<Run> {
  const cert = join(dir, 'c.pem');
  const key = join(dir, 'k.pem');
  const keylog = join(dir, `keylog-${port}.txt`);
  const common = [
    '-dtls1_2',
    '-use_srtp',
    'SRTP_AES128_CM_SHA1_80',
    '-keymatexport',
    SRTP_EXPORTER_LABEL,
    '-keymatexportlen',
    '60',
  ];
  const server = spawn('openssl', [
    's_server',
    ...common,
    '-accept',
    `127.0.0.1:${port}`,
    '-cert',
    cert,
    '-key',
    key,
    '-cipher',
    cipher,
  ]);
  const out = { server: '', client: '' };
  server.stdout.on('data', (d: Buffer) => {
    out.server += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`s_server did not start: ${out.server}`)),
      10_000,
    );
    server.stdout.on('data', () => {
      if (out.server.includes('ACCEPT')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.on('error', reject);
  });
  const client = spawn('openssl', [
    's_client',
    ...common,
    '-connect',
    `127.0.0.1:${port}`,
    '-keylogfile',
    keylog,
    '-msg',
  ]);
  client.stdout.on('data', (d: Buffer) => {
    out.client += d.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no keying material:\n${out.server}\n${out.client}`)),
        15_000,
      );
      const check = () => {
        if (out.server.includes('Keying material: ') && out.client.includes('Keying material: ')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout.on('data', check);
      client.stdout.on('data', check);
      client.on('error', reject);
    });
  } finally {
    client.kill();
    server.kill();
  }
  return { ...out, keylog: readFileSync(keylog, 'utf8') };
}

function keyingMaterial(log: string): Buffer {
  const m = /Keying material: ([0-9A-F]+)/.exec(log);
  if (m === null) throw new Error('no keying material in the log');
  return Buffer.from(m[1]!, 'hex');
}

/** The 32-byte random of the ServerHello in s_client's -msg trace. */
function serverRandom(trace: string): Buffer {
  const blocks = trace.split(/\n(?=<<<|>>>)/);
  for (const b of blocks) {
    if (!b.startsWith('<<<')) continue;
    const hex = b.split('\n').slice(1).join(' ').trim().split(/\s+/).join('');
    const bytes = Buffer.from(hex, 'hex');
    // Handshake header (12 bytes, type 2 = ServerHello), then server_version (2), random (32).
    if (bytes.length > 46 && bytes[0] === 2) return bytes.subarray(14, 46);
  }
  throw new Error('no ServerHello in the -msg trace');
}

t.test('EXTRACTOR-dtls_srtp equals what OpenSSL exports, SHA-256 and SHA-384 suites', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-exporter-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
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
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
      '-subj',
      '/CN=exporter',
      '-days',
      '2',
    ]);
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl req: ${code}`))));
  });
  for (const [cipher, hash] of [
    ['ECDHE-ECDSA-AES128-GCM-SHA256', 'sha256'],
    ['ECDHE-ECDSA-AES256-GCM-SHA384', 'sha384'],
  ] as const) {
    const run = await opensslPair(dir, cipher, await freePort());
    const expected = keyingMaterial(run.server);
    t.same(keyingMaterial(run.client), expected, 'OpenSSL agrees with itself');
    t.match(run.client, /Extended master secret: yes/);
    const line = run.keylog.split('\n').find((l) => l.startsWith('CLIENT_RANDOM '));
    t.ok(line, 'key log has the master secret');
    const [, cr, ms] = line!.split(' ');
    const ours = exportKeyingMaterial(
      hash,
      Buffer.from(ms!, 'hex'),
      SRTP_EXPORTER_LABEL,
      Buffer.from(cr!, 'hex'),
      serverRandom(run.client),
      60,
    );
    t.same(ours, expected, `${cipher}: same 60 bytes as OpenSSL`);
    const keys = splitSrtpKeyingMaterial(SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80, ours);
    t.same(keys.clientMasterKey, expected.subarray(0, 16));
  }
});
