import t from 'tap';
import {
  candidatePriority,
  formatCandidate,
  type IceCandidate,
  isMdnsName,
  pairPriority,
  parseCandidate,
} from '../../lib/ice/candidate.js';

t.test('RFC 8445 §5.1.2.1: candidate priority', async (t) => {
  t.equal(candidatePriority('host', 65535, 1), 126 * 2 ** 24 + 65535 * 256 + 255);
  t.equal(candidatePriority('relay', 0, 1), 255);
  t.equal(candidatePriority('srflx', 65535, 2), 100 * 2 ** 24 + 65535 * 256 + 254);
  t.ok(candidatePriority('prflx', 1, 1) > candidatePriority('srflx', 65535, 1));
  t.throws(() => candidatePriority('host', 70000, 1), TypeError);
  t.throws(() => candidatePriority('host', 1, 0), TypeError);
});

t.test('RFC 8445 §6.1.2.3: pair priority', async (t) => {
  t.equal(pairPriority(10, 20), (10n << 32n) + 40n);
  t.equal(pairPriority(20, 10), (10n << 32n) + 41n);
  const max = 2 ** 31 - 1;
  t.equal(pairPriority(max, max), (BigInt(max) << 32n) + 2n * BigInt(max));
  t.ok(pairPriority(20, 10) > pairPriority(10, 20), 'G > D breaks the tie');
});

t.test('RFC 8839 §5.1: parses Chromium host, srflx, relay and tcp candidates', async (t) => {
  const host = parseCandidate(
    'a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 ' +
      'ufrag EsAw network-id 1 network-cost 10\r\n',
  );
  t.same(host, {
    foundation: '1467250027',
    component: 1,
    transport: 'udp',
    priority: 2122260223,
    address: '192.168.0.196',
    port: 46243,
    type: 'host',
    generation: 0,
    ufrag: 'EsAw',
    networkId: 1,
    networkCost: 10,
  });
  const srflx = parseCandidate(
    'candidate:842163049 1 UDP 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.0.196 ' +
      'rport 46243',
  );
  t.equal(srflx?.transport, 'udp', 'transport is case-insensitive');
  t.equal(srflx?.relatedAddress, '192.168.0.196');
  t.equal(srflx?.relatedPort, 46243);
  const tcp = parseCandidate('candidate:2 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active');
  t.equal(tcp?.tcpType, 'active');
  const mdns = parseCandidate(
    'candidate:3 1 udp 2122260223 2c7f1a6e-3a4b-4c1d-9e1f-0a1b2c3d4e5f.local 53421 typ host',
  );
  t.ok(mdns && isMdnsName(mdns.address));
  t.notOk(isMdnsName('10.0.0.1'));
});

t.test('unknown extensions are kept in order and survive a round trip', async (t) => {
  const line = 'candidate:abc+/ 1 udp 100 ::1 5000 typ relay raddr 0.0.0.0 rport 0 foo bar x y';
  const c = parseCandidate(line);
  t.same(c?.extensions, [
    ['foo', 'bar'],
    ['x', 'y'],
  ]);
  t.equal(formatCandidate(c as IceCandidate), line);
});

t.test('format → parse round trip of every field', async (t) => {
  const c: IceCandidate = {
    foundation: 'f1',
    component: 1,
    transport: 'tcp',
    priority: 12345,
    address: '2001:db8::1',
    port: 9,
    type: 'prflx',
    relatedAddress: '10.0.0.2',
    relatedPort: 4000,
    tcpType: 'passive',
    generation: 3,
    ufrag: 'uf',
    networkId: 7,
    networkCost: 50,
  };
  t.same(parseCandidate(formatCandidate(c)), c);
  t.same(parseCandidate(`a=${formatCandidate(c)}`), c);
});

t.test('malformed lines are undefined, never a throw', async (t) => {
  const bad = [
    '',
    'candidate:',
    'candidate:1 1 udp 1 1.2.3.4 5 host',
    'candidate:1 1 udp 1 1.2.3.4 5 typ bogus',
    'candidate:1 0 udp 1 1.2.3.4 5 typ host',
    'candidate:1 1 sctp 1 1.2.3.4 5 typ host',
    'candidate:1 1 udp 1 1.2.3.4 70000 typ host',
    'candidate:1 1 udp -1 1.2.3.4 5 typ host',
    'candidate:1 1 udp 99999999999 1.2.3.4 5 typ host',
    'candidate:1 1 udp 1 1.2.3.4 5 typ host raddr',
    'candidate:1 1 udp 1 1.2.3.4 5 typ srflx rport x',
    'candidate:1 1 tcp 1 1.2.3.4 5 typ host tcptype weird',
    'candidate:bad-foundation 1 udp 1 1.2.3.4 5 typ host',
    'x=candidate:1 1 udp 1 1.2.3.4 5 typ host',
  ];
  for (const line of bad) t.equal(parseCandidate(line), undefined, JSON.stringify(line));
});
