import t from 'tap';
import { Cidr, CidrSet } from '../../lib/util/cidr.js';
import { parseIp } from '../../lib/util/ip.js';

t.test('Cidr.parse reads blocks and bare addresses', async (t) => {
  const cases: [text: string, canonical: string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.0.2.7', '192.0.2.7/32'], // a bare IPv4 address is a /32
    ['2001:db8::1', '2001:db8::1/128'], // a bare IPv6 address is a /128
    ['10.1.2.3/8', '10.0.0.0/8'], // host bits are cleared
    ['172.31.255.255/12', '172.16.0.0/12'],
    ['2001:DB8:ffff::/32', '2001:db8::/32'],
    ['fe80::/10', 'fe80::/10'],
    ['febf:ffff::/10', 'fe80::/10'],
    ['::/0', '::/0'],
    ['::ffff:0:0/96', '::ffff:0.0.0.0/96'],
  ];
  for (const [text, canonical] of cases) t.equal(Cidr.parse(text).toString(), canonical, text);
  t.equal(JSON.stringify([Cidr.parse('10.0.0.0/8')]), '["10.0.0.0/8"]', 'toJSON');
});

t.test('Cidr.parse throws a TypeError naming the bad input', async (t) => {
  const bad: [text: string, message: RegExp][] = [
    ['10.0.0.0/33', /'10\.0\.0\.0\/33'.*0 to 32/],
    ['::/129', /0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['10.0.0.0/08', /prefix length/],
    ['10.0.0.0/8.5', /prefix length/],
    ['10.0.0.0/ 8', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['/8', /is not an IP address/],
    ['10.0.0/8', /is not an IP address/],
    ['localhost/8', /is not an IP address/],
    ['fe80::1%eth0/64', /is not an IP address/],
    ['', /is not an IP address/],
  ];
  for (const [text, message] of bad) {
    t.throws(() => Cidr.parse(text), { name: 'TypeError', message }, JSON.stringify(text));
  }
});

t.test('Cidr.contains matches prefixes bit by bit', async (t) => {
  const cases: [cidr: string, ip: string, inside: boolean][] = [
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.0.0.0/8', '9.255.255.255', false],
    ['100.64.0.0/10', '100.127.255.255', true],
    ['100.64.0.0/10', '100.128.0.0', false],
    ['100.64.0.0/10', '100.63.255.255', false],
    ['172.16.0.0/12', '172.31.0.1', true],
    ['172.16.0.0/12', '172.32.0.1', false],
    ['198.18.0.0/15', '198.19.255.255', true],
    ['198.18.0.0/15', '198.20.0.0', false],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.7', '192.0.2.8', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['fc00::/7', 'fdff::1', true],
    ['fc00::/7', 'fe00::1', false],
    ['2001::/23', '2001:1ff::1', true],
    ['2001::/23', '2001:200::1', false],
    ['::/0', '2606:4700::1111', true],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
    // Families never mix: mapped forms are PeerFilter's business.
    ['10.0.0.0/8', '::ffff:10.0.0.1', false],
    ['::/0', '10.0.0.1', false],
    ['0.0.0.0/0', '::1', false],
    // Unparsable input is not contained anywhere.
    ['0.0.0.0/0', 'not-an-ip', false],
    ['::/0', 'fe80::1%eth0', false],
  ];
  for (const [cidr, ip, inside] of cases) {
    t.equal(
      Cidr.parse(cidr).contains(ip),
      inside,
      `${cidr} ${inside ? 'contains' : 'excludes'} ${ip}`,
    );
  }
  t.ok(Cidr.parse('10.0.0.0/8').contains(parseIp('10.1.2.3')!), 'accepts parsed bytes');
  t.notOk(
    Cidr.parse('10.0.0.0/8').contains({ family: 4, bytes: new Uint8Array(16) }),
    'bytes of the wrong length are not contained',
  );
});

t.test('CidrSet matches any of its blocks', async (t) => {
  const set = new CidrSet(['10.0.0.0/8', Cidr.parse('2001:db8::/32'), '192.0.2.1']);
  t.equal(set.size, 3);
  t.ok(set.contains('10.9.8.7'));
  t.ok(set.contains('2001:db8:1::5'));
  t.ok(set.contains('192.0.2.1'));
  t.notOk(set.contains('192.0.2.2'));
  t.notOk(set.contains('garbage'));
  t.equal(set.find('2001:db8::9')?.toString(), '2001:db8::/32', 'find reports the rule');
  t.equal(set.find('8.8.8.8'), undefined);
  t.equal(set.find('garbage'), undefined);
  t.equal(set.toString(), '10.0.0.0/8,2001:db8::/32,192.0.2.1/32');
  t.notOk(new CidrSet().contains('10.0.0.1'), 'an empty set contains nothing');
  t.throws(() => new CidrSet(['10.0.0.0/8', '10.0.0.0/33']), {
    name: 'TypeError',
    message: /10\.0\.0\.0\/33/,
  });
});
