import t from 'tap';
import { DEFAULT_DENIED_PEERS, embeddedIpv4, PeerFilter } from '../../lib/turn/peer-filter.js';
import { Cidr } from '../../lib/util/cidr.js';
import { ipToString, parseIp } from '../../lib/util/ip.js';

// RFC 8656 §21.2.3: a relay must not become a way into the server's own network.

const deniedByDefault: [address: string, why: string][] = [
  ['0.0.0.0', '"this network" (reaches the local host on Linux)'],
  ['0.255.255.255', '"this network"'],
  ['10.0.0.1', 'RFC 1918 10/8'],
  ['10.255.255.255', 'RFC 1918 10/8'],
  ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
  ['100.127.255.254', 'carrier-grade NAT 100.64/10'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'the cloud metadata service'],
  ['169.254.0.1', 'link-local'],
  ['172.16.0.1', 'RFC 1918 172.16/12'],
  ['172.31.255.255', 'RFC 1918 172.16/12'],
  ['192.0.0.8', 'IETF protocol assignments 192.0.0/24'],
  ['192.0.2.1', 'TEST-NET-1'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['192.168.1.1', 'RFC 1918 192.168/16'],
  ['198.18.0.1', 'benchmarking 198.18/15'],
  ['198.19.255.255', 'benchmarking 198.18/15'],
  ['198.51.100.1', 'TEST-NET-2'],
  ['203.0.113.1', 'TEST-NET-3'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast (SSDP)'],
  ['240.0.0.1', 'reserved 240/4'],
  ['255.255.255.255', 'limited broadcast'],
  ['::', 'the IPv6 unspecified address'],
  ['::1', 'the IPv6 loopback'],
  ['64:ff9b:1::a00:1', 'local-use NAT64 64:ff9b:1::/48'],
  ['100::1', 'discard-only 100::/64'],
  ['2001::1', 'Teredo, in IETF protocol assignments 2001::/23'],
  ['2001:2::1', 'benchmarking, in 2001::/23'],
  ['2001:1ff:ffff::1', 'the top of 2001::/23'],
  ['2001:db8::1', 'IPv6 documentation 2001:db8::/32'],
  ['3fff::1', 'IPv6 documentation 3fff::/20'],
  ['5f00::1', 'SRv6 SIDs 5f00::/16'],
  ['fc00::1', 'unique local fc00::/7'],
  ['fd12:3456::1', 'unique local fc00::/7'],
  ['fe80::1', 'IPv6 link-local'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'IPv6 multicast'],
  ['::ffff:0:a00:1', 'IPv4-translated ::ffff:0:0:0/96, outside 2000::/3'],
  ['1:2:3:4::5', 'reserved ::/8, outside 2000::/3'],
  ['4000::1', 'unallocated 4000::/2, outside 2000::/3'],
  ['e000::1', 'unallocated, outside 2000::/3'],
];

// Every way this suite knows of to spell a denied IPv4 address as IPv6.
const mappedForms: [address: string, why: string][] = [
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback written in hex'],
  ['0:0:0:0:0:ffff:10.0.0.1', 'IPv4-mapped RFC 1918, uncompressed'],
  ['0000:0000:0000:0000:0000:FFFF:0A00:0001', 'IPv4-mapped RFC 1918, upper-case, zero-padded'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata service'],
  ['::ffff:0.0.0.0', 'IPv4-mapped "this network"'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::a00:1', 'IPv4-compatible RFC 1918 in hex'],
  ['::0.0.0.2', 'IPv4-compatible "this network"'],
  ['64:ff9b::7f00:1', 'NAT64 loopback'],
  ['64:ff9b::10.0.0.1', 'NAT64 RFC 1918'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 metadata service'],
  ['2002:7f00:1::', '6to4 loopback'],
  ['2002:a00:1:1::1', '6to4 RFC 1918'],
];

const allowedByDefault: [address: string, why: string][] = [
  ['8.8.8.8', 'a public IPv4 address'],
  ['1.1.1.1', 'a public IPv4 address'],
  ['9.255.255.255', 'just below 10/8'],
  ['11.0.0.0', 'just above 10/8'],
  ['100.128.0.0', 'just above 100.64/10'],
  ['172.32.0.1', 'just above 172.16/12'],
  ['198.20.0.0', 'just above 198.18/15'],
  ['223.255.255.255', 'just below multicast'],
  ['2606:4700::1111', 'a public IPv6 address'],
  ['2001:4860:4860::8888', 'a public IPv6 address'],
  ['2001:200::1', 'just above 2001::/23'],
  ['::ffff:8.8.8.8', 'an IPv4-mapped public address'],
  ['64:ff9b::808:808', 'a public IPv4 address through the well-known NAT64 prefix'],
  ['64:ff9b::1.1.1.1', 'a public IPv4 address through NAT64, dotted'],
  ['2002:808:808::1', 'a 6to4 address of a public IPv4 address'],
  ['::8.8.8.8', 'an IPv4-compatible public address'],
];

t.test('the default filter refuses every default range', async (t) => {
  const filter = new PeerFilter();
  for (const [address, why] of deniedByDefault) {
    t.equal(filter.isAllowed(address), false, `${address} is refused: ${why}`);
  }
});

t.test('the default filter refuses denied IPv4 spelled as IPv6', async (t) => {
  const filter = new PeerFilter();
  for (const [address, why] of mappedForms) {
    const decision = filter.decide(address);
    t.equal(decision.allowed, false, `${address} is refused: ${why}`);
    t.equal(decision.embeddedIpv4, true, `${address} is judged by its IPv4 address`);
  }
});

t.test('the default filter allows public peers', async (t) => {
  const filter = new PeerFilter();
  for (const [address, why] of allowedByDefault) {
    t.equal(filter.isAllowed(address), true, `${address} is allowed: ${why}`);
  }
});

t.test('every DEFAULT_DENIED_PEERS entry parses and is exercised by this suite', async (t) => {
  for (const entry of DEFAULT_DENIED_PEERS) {
    const cidr = Cidr.parse(entry);
    t.equal(cidr.toString(), entry, `${entry} is written canonically`);
    const covered = deniedByDefault.some(([address]) => cidr.contains(address));
    t.ok(covered, `${entry} has a denied example above`);
  }
});

t.test('an address that does not parse is refused', async (t) => {
  const filter = new PeerFilter({ allow: ['0.0.0.0/0', '::/0'] });
  for (const address of ['', 'localhost', '127.1', '0x7f000001', '2130706433', 'fe80::1%eth0']) {
    t.same(
      filter.decide(address),
      { allowed: false, reason: 'unparsable' },
      JSON.stringify(address),
    );
  }
});

t.test('allowLoopback opens loopback and its IPv6 spellings, nothing else', async (t) => {
  const filter = new PeerFilter({ allowLoopback: true });
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
    t.equal(filter.isAllowed(address), true, `${address} is allowed`);
  }
  t.equal(filter.decide('::1').reason, 'loopback');
  for (const address of ['0.0.0.0', '::', '10.0.0.1', '169.254.169.254', 'fe80::1', '::2']) {
    t.equal(filter.isAllowed(address), false, `${address} is still refused`);
  }
  t.equal(new PeerFilter().isAllowed('127.0.0.1'), false, 'loopback is refused by default');
});

t.test('the allow list beats the defaults and the deny list', async (t) => {
  const filter = new PeerFilter({
    allow: ['10.1.0.0/16', 'fd00::/8', '192.168.7.7'],
    deny: ['10.0.0.0/8', '192.168.7.0/24'],
  });
  const cases: [address: string, allowed: boolean, reason: string][] = [
    ['10.1.2.3', true, 'allow-list'],
    ['::ffff:10.1.2.3', true, 'allow-list'], // the mapped form of an allowed address
    ['64:ff9b::a01:203', true, 'allow-list'],
    ['10.2.0.1', false, 'deny-list'],
    ['fd00::5', true, 'allow-list'],
    ['fc00::5', false, 'default-deny'],
    ['192.168.7.7', true, 'allow-list'],
    ['192.168.7.8', false, 'deny-list'],
    ['192.168.8.1', false, 'default-deny'],
  ];
  for (const [address, allowed, reason] of cases) {
    const d = filter.decide(address);
    t.same([d.allowed, d.reason], [allowed, reason], `${address} → ${reason}`);
  }
  t.equal(filter.decide('10.2.0.1').rule?.toString(), '10.0.0.0/8', 'the matching rule is told');
});

t.test('an address in deny is refused even if the defaults allow it', async (t) => {
  const filter = new PeerFilter({ deny: ['8.8.8.0/24', '2606:4700::/32', '2002::/16'] });
  const refused = [
    '8.8.8.8',
    '::ffff:8.8.8.8', // mapped forms cannot bypass a user rule either
    '64:ff9b::808:808',
    '::8.8.8.8',
    '2606:4700::1111',
    '2002:101:101::1', // the 6to4 block itself is denied, whatever it carries
  ];
  for (const address of refused) {
    t.equal(filter.decide(address).reason, 'deny-list', `${address} is refused`);
  }
  t.equal(filter.isAllowed('8.8.4.4'), true, '8.8.4.4 is still allowed');
});

t.test('the filter accepts parsed bytes as well as text', async (t) => {
  const filter = new PeerFilter();
  t.equal(filter.isAllowed(parseIp('::ffff:10.0.0.1')!), false);
  t.equal(filter.isAllowed(parseIp('2606:4700::1111')!), true);
});

t.test('bad allow or deny entries throw at construction', async (t) => {
  t.throws(() => new PeerFilter({ allow: ['10.0.0.0/33'] }), TypeError);
  t.throws(() => new PeerFilter({ deny: ['not-a-cidr'] }), TypeError);
});

t.test('embeddedIpv4 finds the IPv4 address inside each carrying form', async (t) => {
  const cases: [address: string, v4: string | undefined][] = [
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::1.2.3.4', '1.2.3.4'],
    ['64:ff9b::1.2.3.4', '1.2.3.4'],
    ['2002:102:304::', '1.2.3.4'],
    ['2002:102:304:ffff::1', '1.2.3.4'],
    ['::', undefined],
    ['::1', undefined],
    ['::ffff:0:1.2.3.4', undefined], // IPv4-translated: refused by ::/3, not judged
    ['64:ff9b:0:1::1.2.3.4', undefined], // bits 32-95 of the NAT64 /96 must be zero
    ['64:ff9b:1::1.2.3.4', undefined],
    ['2001::1.2.3.4', undefined],
    ['1.2.3.4', undefined],
  ];
  for (const [address, v4] of cases) {
    const bytes = embeddedIpv4(parseIp(address)!);
    t.equal(bytes && ipToString(4, bytes), v4, `${address} carries ${v4 ?? 'nothing'}`);
  }
});
