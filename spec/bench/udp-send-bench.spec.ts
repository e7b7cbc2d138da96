import t from 'tap';
import { MODES, parseConfig, runUdpSend } from '../../bench/udp-send.js';

t.test('udp-send bench: every mode sends and is compared with socket.send', async (t) => {
  const lines: string[] = [];
  const rows = await runUdpSend(parseConfig(['--quick']), (l) => lines.push(l));
  t.same(
    rows.map((r) => r.mode),
    [...MODES],
  );
  for (const r of rows) {
    t.ok(r.usPerDatagram > 0 && Number.isFinite(r.usPerDatagram), `${r.mode} measured`);
    t.ok(r.vsDgram > 0, `${r.mode} has a ratio`);
  }
  t.equal(rows[0]!.vsDgram, 1, 'socket.send is the reference');
  t.match(lines.join('\n'), /vs socket\.send/);
});

t.test('udp-send bench: options are validated', async (t) => {
  t.throws(() => parseConfig(['--datagrams', '10']), TypeError);
  t.throws(() => parseConfig(['--bytes', 'x']), TypeError);
  t.same(parseConfig([]), { datagrams: 200_000, rounds: 3, bytes: 1200 });
});
