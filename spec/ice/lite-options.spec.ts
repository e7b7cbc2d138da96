import t from 'tap';
import {
  checkIceCredential,
  IceLiteOptionsError,
  LITE_DEFAULTS,
  randomIceChars,
  resolveLiteOptions,
} from '../../lib/ice/lite-options.js';

t.test('defaults are the documented ones', async (t) => {
  t.same(resolveLiteOptions(), {
    port: 0,
    address: '0.0.0.0',
    announcedAddresses: [],
    consentTimeoutMs: 30_000,
    sweepIntervalMs: 1_000,
    maxSessions: 100_000,
    receiveBufferBytes: 4 * 1024 * 1024,
    fastUdpSend: true,
    tcpPort: undefined,
    tcpMaxFrameBytes: 65_535,
    tcpHandshakeTimeoutMs: 10_000,
    tcpMaxPendingConnections: 1_000,
  });
  t.equal(LITE_DEFAULTS.consentTimeoutMs, 30_000, 'RFC 7675 §5.1: 30 s');
  t.equal(resolveLiteOptions({ fastUdpSend: false }).fastUdpSend, false, 'socket.send kept');
});

t.test('announced addresses: the bound one unless a wildcard, or the ones given', async (t) => {
  t.same(resolveLiteOptions({ address: '127.0.0.1' }).announcedAddresses, ['127.0.0.1']);
  t.same(resolveLiteOptions({ address: '::' }).announcedAddresses, []);
  t.same(resolveLiteOptions({ announcedAddress: '203.0.113.5' }).announcedAddresses, [
    '203.0.113.5',
  ]);
  t.same(
    resolveLiteOptions({ announcedAddress: ['203.0.113.5', '2001:db8::5'] }).announcedAddresses,
    ['203.0.113.5', '2001:db8::5'],
  );
});

t.test('each bad option is refused with its name and a stable code', async (t) => {
  const bad: [string, Parameters<typeof resolveLiteOptions>[0]][] = [
    ['port', { port: -1 }],
    ['port', { port: 1.5 }],
    ['address', { address: 'example.com' }],
    ['announcedAddress', { announcedAddress: 'rtcd.local' }],
    ['consentTimeoutMs', { consentTimeoutMs: 0 }],
    ['sweepIntervalMs', { sweepIntervalMs: 0 }],
    ['maxSessions', { maxSessions: 0 }],
    ['receiveBufferBytes', { receiveBufferBytes: -5 }],
    ['tcpPort', { tcpPort: 65536 }],
    ['tcpMaxFrameBytes', { tcpMaxFrameBytes: 10 }],
    ['tcpHandshakeTimeoutMs', { tcpHandshakeTimeoutMs: 0 }],
    ['tcpMaxPendingConnections', { tcpMaxPendingConnections: 0 }],
  ];
  for (const [option, o] of bad) {
    t.throws(() => resolveLiteOptions(o), { code: 'ICE_LITE_BAD_OPTION', option }, option);
  }
  const e = new IceLiteOptionsError('x', 'y');
  t.ok(e instanceof TypeError, 'misuse is a TypeError');
});

t.test(
  'RFC 8445 §5.3 / RFC 8839 §5.4: credentials are ice-chars of the right lengths',
  async (t) => {
    t.equal(checkIceCredential('u', 'abcd', 4), 'abcd');
    t.throws(() => checkIceCredential('u', 'abc', 4), { code: 'ICE_LITE_BAD_OPTION', option: 'u' });
    t.throws(() => checkIceCredential('u', 'ab-d', 4));
    t.throws(() => checkIceCredential('u', 'a'.repeat(257), 4));
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const u = randomIceChars(8);
      const p = randomIceChars(24);
      t.match(u, /^[A-Za-z0-9+/]{8}$/);
      t.match(p, /^[A-Za-z0-9+/]{24}$/);
      seen.add(u);
    }
    t.equal(seen.size, 100, 'random ufrags do not repeat');
  },
);
