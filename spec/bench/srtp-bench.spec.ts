import t from 'tap';
import {
  compoundRtcp,
  crossCheck,
  crossCheckRtcp,
  PROFILES,
  weriftRtcpStep,
  weriftStep,
} from '../../bench/srtp/workloads.js';
import {
  checkTargets,
  defaultConfig,
  formatTable,
  main,
  runSrtpBench,
  type SrtpRow,
} from '../../bench/srtp.js';
import { decodeRtcp } from '../../lib/rtcp/index.js';
import { libsrtpSkipReason } from '../helpers/libsrtp.js';

t.test(
  'the SRTP bench runs every profile both ways, tiny, without werift and libsrtp',
  async (t) => {
    const lines: string[] = [];
    const r = await runSrtpBench(
      {
        ...defaultConfig,
        seconds: 0.02,
        sizes: [160],
        rtcpSizes: [],
        werift: false,
        libsrtp: false,
        heapPackets: 300,
      },
      (l) => lines.push(l),
    );
    t.equal(r.rows.length, PROFILES.length * 2, 'SRTP, per profile and direction');
    const rtcp = await runSrtpBench(
      {
        ...defaultConfig,
        seconds: 0.02,
        sizes: [],
        rtcpSizes: [100],
        profiles: ['AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_256_GCM'],
        werift: false,
        libsrtp: false,
        heapPackets: 300,
      },
      () => {},
    );
    t.same(
      rtcp.rows.map((row) => `${row.kind} ${row.size} ${row.profile} ${row.direction}`),
      [
        'SRTCP 100 AES_CM_128_HMAC_SHA1_32 protect',
        'SRTCP 100 AES_CM_128_HMAC_SHA1_32 unprotect',
        'SRTCP 100 AEAD_AES_256_GCM protect',
        'SRTCP 100 AEAD_AES_256_GCM unprotect',
      ],
    );
    r.rows.push(...rtcp.rows);
    for (const row of r.rows) {
      t.ok(row.rtcd > 0 && Number.isFinite(row.rtcd), `${row.profile} ${row.direction}: rtcd rate`);
      t.ok(row.bare > 0 && Number.isFinite(row.bare), `${row.profile} ${row.direction}: bare rate`);
      t.equal(row.werift, undefined);
      t.equal(row.libsrtp, undefined);
    }
    for (const row of r.rows) {
      t.ok(Number.isFinite(row.heap?.usedBytesPerPacket), `${row.kind} ${row.profile} heap`);
      t.ok(Number.isFinite(row.heap?.retainedBytesPerPacket), 'retained heap measured');
    }
    t.match(lines.join('\n'), /heap B\/pkt/);
    t.equal(r.libsrtpSkipped, 'not asked (--no-libsrtp)');
    t.ok(
      lines.some((l) => l.startsWith('target ≥ 1.0× bare')),
      'reports the bare-loop target',
    );
  },
);

t.test('targets report the worst ratio and where it is', (t) => {
  const row = (
    profile: SrtpRow['profile'],
    rtcd: number,
    bare: number,
    werift?: number,
    retained = 0,
  ): SrtpRow => ({
    kind: 'SRTP',
    size: 160,
    profile,
    direction: 'protect' as const,
    rtcd,
    bare,
    werift,
    libsrtp: undefined,
    heap: {
      usedBytesPerPacket: 10,
      retainedBytesPerPacket: retained,
      sampledPackets: 1,
      skippedChunks: 0,
      forcedGc: true,
    },
  });
  const [w, b] = checkTargets([
    row('AES_CM_128_HMAC_SHA1_80', 300, 200, 100),
    row('AEAD_AES_128_GCM', 140, 150, 100),
  ]);
  t.match(w, { met: false, worst: 1.4, where: 'SRTP AEAD_AES_128_GCM 160 B protect' });
  t.match(b, { met: false, where: 'SRTP AEAD_AES_128_GCM 160 B protect' });
  const [w2, b2, h2] = checkTargets([row('AES_CM_128_HMAC_SHA1_80', 300, 200, 100)]);
  t.equal(w2?.met, true);
  t.equal(b2?.met, true);
  t.equal(h2?.met, true, 'nothing retained');
  const [, , h3] = checkTargets([row('AES_CM_128_HMAC_SHA1_80', 300, 200, 100, 80)]);
  t.equal(h3?.met, false, '80 B/packet retained fails the heap target');
  t.match(formatTable([row('AEAD_AES_128_GCM', 2e6, 1e6)])[1], /2\.00 M .* 2\.00×/);
  t.end();
});

t.test('werift-rtp opens rtcd packets to the same bytes, and its rows run', (t) => {
  for (const size of [160, 1200]) {
    for (const profile of PROFILES) t.doesNotThrow(() => crossCheck(profile, size, true), profile);
  }
  t.equal(weriftStep('AEAD_AES_256_GCM', 160, 'protect'), undefined, 'werift has no GCM-256');
  const protect = weriftStep('AES_CM_128_HMAC_SHA1_80', 160, 'protect');
  const unprotect = weriftStep('AEAD_AES_128_GCM', 160, 'unprotect');
  t.equal(protect?.(), 170, 'werift adds an 80-bit tag');
  t.equal(unprotect?.(), 160, 'werift opens a GCM packet');
  for (const size of [100, 1000]) {
    for (const profile of PROFILES) {
      t.doesNotThrow(() => crossCheckRtcp(profile, size, true), `SRTCP ${profile} ${size} B`);
    }
  }
  t.equal(weriftRtcpStep('AES_CM_128_HMAC_SHA1_80', 100, 'protect')?.(), 114, 'E|index + tag');
  t.equal(weriftRtcpStep('AEAD_AES_128_GCM', 1000, 'unprotect')?.(), 1000);
  t.end();
});

t.test('compound RTCP of the SRTCP rows: SR + SDES of exactly the size asked', (t) => {
  for (const size of [40, 100, 1000, 1024]) {
    const r = decodeRtcp(compoundRtcp(size));
    t.ok(r.ok, `${size} B decodes`);
    if (r.ok)
      t.same(
        r.packets.map((p) => p.kind),
        ['sr', 'sdes'],
        `${size} B: SR + SDES`,
      );
  }
  t.throws(() => compoundRtcp(1028), TypeError);
  t.throws(() => compoundRtcp(102), TypeError);
  t.end();
});

t.test('libsrtp rows come from the C harness', { skip: libsrtpSkipReason() }, async (t) => {
  const r = await runSrtpBench(
    {
      ...defaultConfig,
      seconds: 0.01,
      sizes: [160],
      rtcpSizes: [],
      profiles: ['AEAD_AES_128_GCM'],
      heapPackets: 100,
    },
    () => {},
  );
  for (const row of r.rows) t.ok((row.libsrtp ?? 0) > 0, `${row.direction}: libsrtp rate`);
  t.ok((r.rows[0]?.werift ?? 0) > 0, 'werift rate');
});

t.test('bad arguments are refused before anything runs', async (t) => {
  const errors: unknown[] = [];
  const saved = console.error;
  console.error = (...a: unknown[]) => errors.push(a);
  try {
    t.equal(await main(['--seconds', '0']), 1);
    t.equal(await main(['--sizes', '8']), 1);
    t.equal(await main(['--heap-packets', '1.5']), 1);
    t.equal(await main(['--rtcp-sizes', '102']), 1);
    t.equal(await main(['--profiles', 'AES_CM_128_NULL']), 1);
  } finally {
    console.error = saved;
  }
  t.equal(errors.length, 5);
});
