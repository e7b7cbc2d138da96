import t from 'tap';
import { ContentType, HandshakeType } from '../../lib/dtls/constants.js';
import { decodeClientHello, encodeClientHello } from '../../lib/dtls/messages/client-hello.js';
import { readRecords } from '../../lib/dtls/record.js';
import { launchChromium } from '../helpers/browser.js';
import {
  checkChromiumClientHello,
  handshakeMessages,
  webrtcClientHello,
} from '../helpers/dtls-captures.js';
import {
  CHROMIUM_LOOPBACK_ARG,
  captureChromiumClientHello,
  captureChromiumServerFlight,
} from '../helpers/dtls-chromium-capture.js';
import { checkServerFlight, reencodesExactly } from '../helpers/dtls-wire-checks.js';

/**
 * The live Chromium in both DTLS roles against a bare UDP socket that answers ICE as a lite
 * peer (see the helper). As client, its first ClientHello — DTLS 1.3 and post-quantum offers,
 * more than one record — reassembles, decodes and re-encodes byte for byte. As server, its
 * flight answering our ClientHello decodes, re-encodes, and its ServerKeyExchange signature
 * verifies with the key of the certificate it sent.
 */
const browser = await launchChromium([CHROMIUM_LOOPBACK_ARG]);
t.teardown(() => browser.close());

t.test('live Chromium ClientHello reassembles, decodes and re-encodes', async (t) => {
  const datagrams = await captureChromiumClientHello(browser);
  const records = datagrams
    .flatMap((d) => [...readRecords(d)])
    .filter((r) => r.type === ContentType.handshake);
  t.ok(records.length >= 2, `ClientHello spans ${records.length} records`);
  reencodesExactly(t, 'chromium client', datagrams);
  const [m, ...rest] = handshakeMessages(datagrams);
  t.same(rest, []);
  t.equal(m?.msgType, HandshakeType.clientHello);
  const hello = decodeClientHello(m!.body);
  t.ok(hello, 'decodes');
  if (!hello) return;
  t.same(encodeClientHello(hello), m!.body, 're-encodes byte for byte');
  checkChromiumClientHello(t, hello);
});

t.test('live Chromium server flight answering our ClientHello', async (t) => {
  const { datagrams, helloVerify } = await captureChromiumServerFlight(browser);
  checkServerFlight(t, 'chromium server', datagrams, {
    clientRandom: webrtcClientHello().random,
    firstSeq: helloVerify ? 1 : 0,
    subject: /CN=WebRTC/,
  });
});
