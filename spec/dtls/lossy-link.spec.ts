/**
 * RFC 6347 §4.2.4: the handshake completes through a link that loses 20% of datagrams,
 * duplicates and reorders them, within a bounded time — under a fake clock for many seeds,
 * and over real UDP through a seeded lossy proxy.
 */
import t from 'tap';
import type { DtlsConnection } from '../../lib/dtls/connection.js';
import { CookieJar } from '../../lib/dtls/cookie.js';
import { DtlsSocket, DtlsUdpServer } from '../../lib/dtls/udp-adapter.js';
import { dtlsPair, testCertificates } from '../helpers/dtls-pair.js';
import { LinkImpairment, startLossyLink } from '../helpers/lossy-link.js';

const IMPAIRMENT = { loss: 0.2, duplicate: 0.1, reorder: 0.3, maxDelayMs: 80, baseDelayMs: 10 };
/** With a 400 ms first timeout, even five losses of one flight in a row fit in this. */
const BOUND_MS = 30_000;

t.test('20% loss, duplication and reordering: 40 seeds all connect in bounded time', async (t) => {
  const times: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    for (const mtu of [1200, 300]) {
      const links = {
        client: new LinkImpairment({ seed, ...IMPAIRMENT }),
        server: new LinkImpairment({ seed: seed + 1000, ...IMPAIRMENT }),
      };
      const pair = await dtlsPair({
        client: { mtu },
        server: { mtu },
        tap: (from, datagram) => links[from].plan().map((delayMs) => ({ datagram, delayMs })),
      });
      pair.run(BOUND_MS);
      const done = Math.max(
        pair.ends.client.connectedAt ?? Infinity,
        pair.ends.server.connectedAt ?? Infinity,
      );
      if (!Number.isFinite(done)) {
        t.fail(`seed ${seed} mtu ${mtu}: client ${pair.client.state}, server ${pair.server.state}`);
        continue;
      }
      times.push(done);
      // Keys agree, and data flows through the same bad link.
      t.same(
        pair.client.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60),
        pair.server.exportKeyingMaterial('EXTRACTOR-dtls_srtp', 60),
      );
    }
  }
  t.equal(times.length, 80, 'every handshake completed');
  t.ok(Math.max(...times) < BOUND_MS, `slowest ${Math.max(...times)} ms of fake time`);
  t.comment(
    `median ${times.sort((a, b) => a - b)[times.length >> 1]} ms, max ${Math.max(...times)} ms`,
  );
});

t.test('a total blackout fails cleanly with handshake_timeout', async (t) => {
  const pair = await dtlsPair({ tap: () => [], client: { maxRetransmits: 3 } });
  pair.run();
  t.equal(pair.client.state, 'failed');
  t.equal(pair.ends.client.sent.length, 4);
});

t.test('over real UDP through a seeded lossy proxy (20% loss, reordering)', async (t) => {
  const [a, b] = await testCertificates();
  for (const seed of [11, 22, 33]) {
    const server = await DtlsUdpServer.listen({
      certificate: b!,
      cookieJar: new CookieJar(),
      initialRetransmitMs: 100,
    });
    const link = await startLossyLink({
      target: { address: '127.0.0.1', port: server.port },
      seed,
      loss: 0.2,
      duplicate: 0.1,
      reorder: 0.3,
      maxDelayMs: 40,
    });
    const connected = new Promise<DtlsConnection>((resolve) => server.once('connect', resolve));
    server.on('data', (c, d) => c.send(d));
    const started = Date.now();
    const client = await DtlsSocket.connect(
      { address: '127.0.0.1', port: link.port },
      {
        certificate: a!,
        remoteFingerprints: [{ algorithm: 'sha-256', value: b!.fingerprint() }],
        initialRetransmitMs: 100,
      },
    );
    await connected;
    const elapsed = Date.now() - started;
    t.ok(elapsed < 15_000, `seed ${seed}: connected in ${elapsed} ms`);
    t.ok(link.upstream.stats.sent > 0);
    client.close();
    server.close();
    await link.close();
  }
});
