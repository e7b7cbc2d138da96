import t from 'tap';
import { crossCheck, PROFILES, weriftStep } from '../../bench/srtp/workloads.js';
import {
  checkTargets,
  defaultConfig,
  formatTable,
  main,
  runSrtpBench,
  type SrtpRow,
} from '../../bench/srtp.js';
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
        werift: false,
        libsrtp: false,
        heapPackets: 300,
      },
      (l) => lines.push(l),
    );
    t.equal(r.rows.length, PROFILES.length * 2, 'one row per profile and direction');
    for (const row of r.rows) {
      t.ok(row.rtcd > 0 && Number.isFinite(row.rtcd), `${row.profile} ${row.direction}: rtcd rate`);
      t.ok(row.bare > 0 && Number.isFinite(row.bare), `${row.profile} ${row.direction}: bare rate`);
      t.equal(row.werift, undefined);
      t.equal(row.libsrtp, undefined);
    }
    t.equal(r.heap.length, PROFILES.length * 2);
    for (const h of r.heap) t.ok(Number.isFinite(h.growth.usedBytesPerPacket));
    t.equal(r.libsrtpSkipped, 'not asked (--no-libsrtp)');
    t.ok(
      lines.some((l) => l.startsWith('target ≥ 1.0× bare')),
      'reports the bare-loop target',
    );
  },
);

t.test('targets report the worst ratio and where it is', (t) => {
  const row = (profile: SrtpRow['profile'], rtcd: number, bare: number, werift?: number) => ({
    size: 160,
    profile,
    direction: 'protect' as const,
    rtcd,
    bare,
    werift,
    libsrtp: undefined,
  });
  const [w, b] = checkTargets([
    row('AES_CM_128_HMAC_SHA1_80', 300, 200, 100),
    row('AEAD_AES_128_GCM', 140, 150, 100),
  ]);
  t.match(w, { met: false, worst: 1.4, where: 'AEAD_AES_128_GCM 160 B protect' });
  t.match(b, { met: false, where: 'AEAD_AES_128_GCM 160 B protect' });
  const [w2, b2] = checkTargets([row('AES_CM_128_HMAC_SHA1_80', 300, 200, 100)]);
  t.equal(w2?.met, true);
  t.equal(b2?.met, true);
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
  t.end();
});

t.test('libsrtp rows come from the C harness', { skip: libsrtpSkipReason() }, async (t) => {
  const r = await runSrtpBench(
    {
      ...defaultConfig,
      seconds: 0.01,
      sizes: [160],
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
  } finally {
    console.error = saved;
  }
  t.equal(errors.length, 3);
});
