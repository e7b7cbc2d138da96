/**
 * DTLS-range junk (RFC 7983: first byte 20..63) that does not parse as a DTLS record is
 * counted by the endpoint's DTLS connection (`malformed-record`, RFC 6347 §4.1.2.7 lets it
 * discard the datagram) and so counts toward the SFU's per-endpoint abuse budget: a sender of
 * such junk is closed (`abuse`) like one sending forged SRTP.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { captureLogger, startOpsSfu, until } from './ops-peer.js';

const { logger, lines } = captureLogger();
const { sfu, connect } = await startOpsSfu(t, {
  logger,
  router: { maxBadPacketsPerSecond: 100 },
});
const malformed = () => sfu.stats().drops.endpoint['dtls-malformed-record'] ?? 0;

/** A datagram whose first byte is a DTLS content type but whose record header is invalid. */
function junk(i: number): Buffer {
  const b = randomBytes(20 + (i % 40));
  b[0] = 20 + (i % 12); // 20..31: DTLS 1.2 content types
  b[1] = 0x03; // not 0xfe: no DTLS version
  return b;
}

t.test('DTLS-range junk is counted as dtls-malformed-record', async (t) => {
  const s = await connect('/whip/room', [{ kind: 'audio', ssrc: 1234 }]);
  const id = s.location.replace('/resource/', '');
  const before = malformed();
  for (let i = 0; i < 30; i++) s.peer.send(junk(i));
  t.ok(await until(() => malformed() >= before + 30), `counted (${malformed() - before})`);
  t.equal(malformed() - before, 30, 'each junk datagram once');
  t.ok(sfu.resources.has(id), 'not closed while under the budget');

  const spray = setInterval(() => {
    for (let i = 0; i < 20; i++) s.peer.send(junk(i));
  }, 10);
  const closed = await until(() => !sfu.resources.has(id), 5000);
  clearInterval(spray);
  t.ok(closed, 'the junk sender is closed');
  t.equal(sfu.stats().closed.abuse, 1, 'for abuse');
  t.ok(
    lines.some((l) => l.obj.reason === 'abuse'),
    'the reason is logged',
  );
});
