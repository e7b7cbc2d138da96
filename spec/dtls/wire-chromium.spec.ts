import t from 'tap';
import { ContentType, HandshakeType } from '../../lib/dtls/constants.js';
import { decodeClientHello, encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { readRecords } from '../../lib/dtls/record.js';
import { launchChromium } from '../helpers/browser.js';
import { checkChromiumClientHello, handshakeMessages } from '../helpers/dtls-captures.js';
import { captureChromiumClientHello } from '../helpers/dtls-chromium-capture.js';

/**
 * The live Chromium's first ClientHello (ICE-lite answer on a bare UDP socket; see the
 * helper) reassembles from its fragments and decodes, DTLS 1.3 and post-quantum offers
 * included, and re-encodes byte for byte.
 */
t.test('live Chromium ClientHello reassembles, decodes and re-encodes', async (t) => {
  const browser = await launchChromium(['--allow-loopback-in-peer-connection']);
  t.teardown(() => browser.close());
  const datagrams = await captureChromiumClientHello(browser);
  const fragments = datagrams
    .flatMap((d) => [...readRecords(d)])
    .filter((r) => r.type === ContentType.handshake);
  t.ok(fragments.length >= 2, `ClientHello spans ${fragments.length} records`);
  const [m, ...rest] = handshakeMessages(datagrams);
  t.same(rest, []);
  t.equal(m?.msgType, HandshakeType.clientHello);
  const hello = decodeClientHello(m!.body);
  t.ok(hello, 'decodes');
  if (!hello) return;
  t.same(encodeClientHello(hello), m!.body, 're-encodes byte for byte');
  checkChromiumClientHello(t, hello);
});
