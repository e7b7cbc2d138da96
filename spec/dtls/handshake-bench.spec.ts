/**
 * bench/dtls/handshakes.ts in a tiny mode, werift included, so the benchmark cannot rot:
 * both rows measure real completed handshakes on both implementations.
 */
import t from 'tap';
import { runHandshakeBench } from '../../bench/dtls/handshakes.js';

t.test('handshake bench: rtcd and werift rows, positive rates', async (t) => {
  const lines: string[] = [];
  const rows = await runHandshakeBench({ seconds: 0.06, werift: true }, (l) => lines.push(l));
  t.equal(rows.length, 2);
  for (const r of rows) {
    t.ok(r.rtcd > 0, `${r.name}: rtcd ${r.rtcd}`);
    t.ok((r.werift ?? 0) > 0, `${r.name}: werift ${r.werift}`);
  }
  t.match(lines.join('\n'), /server role.*× werift/);
  const alone = await runHandshakeBench({ seconds: 0.03, werift: false }, () => {});
  t.equal(alone[0]?.werift, undefined);
});
