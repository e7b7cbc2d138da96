import { randomBytes } from 'node:crypto';
import { SocketAddress } from 'node:net';
import t from 'tap';
import { ipToString, isIpv4Mapped, normalizeIp, parseIp, unmapIpv4 } from '../../lib/util/ip.js';

t.test('parseIp turns text into network-order bytes', async (t) => {
  const cases: [text: string, family: 4 | 6, hex: string][] = [
    ['0.0.0.0', 4, '00000000'],
    ['1.2.3.4', 4, '01020304'],
    ['255.255.255.255', 4, 'ffffffff'],
    ['::', 6, '00000000000000000000000000000000'],
    ['::1', 6, '00000000000000000000000000000001'],
    ['1::', 6, '00010000000000000000000000000000'],
    ['1:2:3:4:5:6:7:8', 6, '00010002000300040005000600070008'],
    ['2001:DB8::Ab:cD', 6, '20010db8000000000000000000ab00cd'],
    ['fe80::1:2', 6, 'fe800000000000000000000000010002'],
    ['1:0:0:0:0:0:0:8', 6, '00010000000000000000000000000008'],
    ['1::7:8', 6, '00010000000000000000000000070008'],
    ['1:2:3:4:5:6:7::', 6, '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', 6, '00000002000300040005000600070008'],
    ['::ffff:1.2.3.4', 6, '00000000000000000000ffff01020304'],
    ['0:0:0:0:0:ffff:10.0.0.1', 6, '00000000000000000000ffff0a000001'],
    ['::127.0.0.1', 6, '0000000000000000000000007f000001'],
    ['1:2:3:4:5:6:1.2.3.4', 6, '00010002000300040005000601020304'],
    ['64:ff9b::192.0.2.33', 6, '0064ff9b0000000000000000c0000221'],
  ];
  for (const [text, family, hex] of cases) {
    const ip = parseIp(text);
    t.same(ip && { family: ip.family, hex: ip.bytes.toString('hex') }, { family, hex }, text);
  }
});

t.test('parseIp rejects what is not a literal address, without DNS', async (t) => {
  const bad = [
    '',
    'localhost',
    'example.com',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '127.1', // inet_aton shorthand
    '0x7f.0.0.1', // inet_aton hex
    '010.0.0.1', // inet_aton octal
    '2130706433', // inet_aton integer
    '1.2.3.4/32',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    ':::',
    '12345::',
    'g::1',
    '::ffff:1.2.3',
    '1.2.3.4::',
    'fe80::1%eth0', // zone ids are rejected, not stripped
    'fe80::1%1',
    '[::1]',
  ];
  for (const text of bad) t.equal(parseIp(text), undefined, JSON.stringify(text));
});

t.test('ipToString writes RFC 5952 text', async (t) => {
  const cases: [input: string, canonical: string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1, §4.3
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 first longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 no '::' for one group
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longer run
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'], // §5 IPv4-mapped
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['192.0.2.1', '192.0.2.1'],
    ['fe80:0:0:0:0:0:0:a', 'fe80::a'],
  ];
  for (const [input, canonical] of cases) t.equal(normalizeIp(input), canonical, input);
  t.equal(normalizeIp('not an ip'), undefined);
});

t.test('ipToString rejects bytes of the wrong length', async (t) => {
  t.throws(() => ipToString(4, new Uint8Array(16)), TypeError);
  t.throws(() => ipToString(6, new Uint8Array(4)), TypeError);
});

// Node formats rinfo.address with libuv's inet_ntop. Permissions are keyed by address text,
// so a peer decoded from XOR-PEER-ADDRESS must print exactly like the same peer in rinfo.
t.test('ipToString agrees with Node on random and edge-case IPv6 addresses', async (t) => {
  const samples: Buffer[] = [];
  for (let i = 0; i < 500; i++) {
    const b = randomBytes(16);
    // Zero some words at random so that runs of zeros, ties and embedded IPv4 all show up.
    const mask = b.readUInt8(0);
    for (let w = 0; w < 8; w++) if (mask & (1 << w) || b[w * 2] === 0) b.writeUInt16BE(0, w * 2);
    if (i % 5 === 0) b.writeUInt16BE(0xffff, 10);
    samples.push(b);
  }
  for (const hex of ['0', '1', '2', '100', '10000', 'ffff00000000', '1ffff00000000']) {
    samples.push(Buffer.from(hex.padStart(32, '0'), 'hex'));
  }
  const mismatches: string[] = [];
  for (const bytes of samples) {
    const ours = ipToString(6, bytes);
    const node = new SocketAddress({ address: ours, family: 'ipv6' }).address;
    const back = parseIp(ours)?.bytes.toString('hex');
    if (ours !== node || back !== bytes.toString('hex')) mismatches.push(`${ours} ${node} ${back}`);
  }
  t.same(mismatches, [], `${samples.length} addresses print like Node and parse back`);
});

t.test('unmapIpv4 sees the IPv4 address a dual-stack socket reports', async (t) => {
  const mapped = parseIp('::ffff:192.0.2.1')!;
  t.ok(isIpv4Mapped(mapped.bytes));
  const v4 = unmapIpv4(mapped);
  t.equal(v4.family, 4);
  t.equal(ipToString(v4.family, v4.bytes), '192.0.2.1');
  const plain = parseIp('2001:db8::1')!;
  t.equal(unmapIpv4(plain), plain, 'other IPv6 unchanged');
  const four = parseIp('192.0.2.1')!;
  t.equal(unmapIpv4(four), four, 'IPv4 unchanged');
  t.notOk(isIpv4Mapped(parseIp('::1.2.3.4')!.bytes), 'IPv4-compatible is not mapped');
});
