import t from 'tap';
import type { TurnServerOptions } from '../../lib/turn/options.js';
import {
  type ResolveEnvironment,
  resolveTurnOptions,
  TurnOptionsError,
} from '../../lib/turn/resolve-options.js';

const env: ResolveEnvironment = {
  nodeVersion: 'v20.20.2',
  interfaces: {
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4',
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
    ],
    eth0: [
      {
        address: 'fe80::1',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '02:00:00:00:00:01',
        internal: false,
        cidr: 'fe80::1/64',
        scopeid: 2,
      },
      {
        address: '203.0.113.4',
        netmask: '255.255.255.0',
        family: 'IPv4',
        mac: '02:00:00:00:00:01',
        internal: false,
        cidr: '203.0.113.4/24',
      },
    ],
  },
};

const resolve = (o: TurnServerOptions, e: ResolveEnvironment = env) => resolveTurnOptions(o, e);

t.test('defaults are the documented ones', async (t) => {
  const o = resolve({});
  t.same(o.listen, [{ host: '0.0.0.0', port: 3478 }]);
  t.same(o.tlsListen, []);
  t.equal(o.realm, 'rtcd');
  t.same(o.users, {});
  t.same(o.authSecrets, []);
  t.equal(o.minPort, 49152);
  t.equal(o.maxPort, 65535);
  t.equal(o.allowLoopbackPeers, false);
  t.equal(o.maxAllocationsPerUser, 10);
  t.equal(o.maxAllocations, 5000);
  t.equal(o.maxPermissionsPerAllocation, 256);
  t.equal(o.maxBps, 20e6);
  t.equal(o.bpsCapacity, 1e9);
  t.equal(o.defaultLifetime, 600);
  t.equal(o.maxLifetime, 3600);
  t.equal(o.permissionLifetime, 300);
  t.equal(o.channelLifetime, 600);
  t.equal(o.nonceLifetime, 600);
  t.equal(o.software, 'rtcd');
  t.equal(o.maxConnections, 10000);
  t.equal(o.listenerBufferSize, 4 * 1024 * 1024, 'listeners ask 4 MiB, as coturn does');
  t.equal(o.relayBufferSize, 1024 * 1024);
  t.equal(o.tcpIdleTimeoutMs, 60000);
  t.equal(o.metricsListen, undefined);
  t.equal(o.drainTimeoutMs, 30000);
  t.equal(o.reusePort, false);
});

t.test(
  'relay addresses: listener host, else a global interface address, else loopback',
  async (t) => {
    const wildcard = resolve({});
    t.equal(wildcard.relayIpv4, '203.0.113.4', 'first non-internal IPv4');
    t.equal(wildcard.relayIpv6, '::1', 'link-local is skipped, so loopback');
    const concrete = resolve({ listen: [{ host: '127.0.0.1', port: 0 }] });
    t.equal(concrete.relayIpv4, '127.0.0.1');
    const explicit = resolve({ relayIps: ['2001:DB8::1', '198.51.100.1'] });
    t.equal(explicit.relayIpv4, '198.51.100.1');
    t.equal(explicit.relayIpv6, '2001:db8::1', 'canonical text');
    const v4only = resolve({ relayIps: ['198.51.100.1'] });
    t.equal(v4only.relayIpv6, undefined, 'no IPv6 relaying when relayIps has none');
  },
);

t.test('externalIps map relay addresses to public ones', async (t) => {
  const o = resolve({ relayIps: ['10.0.0.5'], externalIps: ['203.0.113.9'] });
  t.equal(o.externalIps.get('10.0.0.5'), '203.0.113.9');
  const pair = resolve({ relayIps: ['10.0.0.5'], externalIps: ['203.0.113.9/10.0.0.5'] });
  t.equal(pair.externalIps.get('10.0.0.5'), '203.0.113.9');
});

const invalid: [string, TurnServerOptions, string][] = [
  ['minPort above maxPort', { minPort: 60000, maxPort: 50000 }, 'minPort'],
  ['port 0 for relays', { minPort: 0 }, 'minPort'],
  ['a zero lifetime', { defaultLifetime: 0 }, 'defaultLifetime'],
  ['a negative max lifetime', { maxLifetime: -5 }, 'maxLifetime'],
  ['default above max lifetime', { defaultLifetime: 7200 }, 'defaultLifetime'],
  ['a permission lifetime above 300 s', { permissionLifetime: 301 }, 'permissionLifetime'],
  ['a channel lifetime above 600 s', { channelLifetime: 900 }, 'channelLifetime'],
  ['a bad CIDR in allowPeers', { allowPeers: ['10.0.0.0/33'] }, 'allowPeers'],
  ['a bad CIDR in denyPeers', { denyPeers: ['nope'] }, 'denyPeers'],
  ['tlsListen without cert', { tlsListen: [{ host: '::', port: 5349 }], key: 'k' }, 'cert'],
  ['tlsListen without key', { tlsListen: [{ host: '::', port: 5349 }], cert: 'c' }, 'key'],
  ['a listener port out of range', { listen: [{ host: '::', port: 70000 }] }, 'listen'],
  ['a relay address that is a name', { relayIps: ['relay.example'] }, 'relayIps'],
  ['a wildcard relay address', { relayIps: ['0.0.0.0'] }, 'relayIps'],
  ['two IPv4 relay addresses', { relayIps: ['192.0.2.1', '192.0.2.2'] }, 'relayIps'],
  [
    'an external IP for no relay',
    { relayIps: ['10.0.0.5'], externalIps: ['1.2.3.4/10.9.9.9'] },
    'externalIps',
  ],
  [
    'an external IP of the wrong family',
    { relayIps: ['10.0.0.5'], externalIps: ['2001:db8::1/10.0.0.5'] },
    'externalIps',
  ],
  ['zero bandwidth', { maxBps: 0 }, 'maxBps'],
  ['infinite capacity', { bpsCapacity: Number.POSITIVE_INFINITY }, 'bpsCapacity'],
  ['a fractional quota', { maxAllocationsPerUser: 1.5 }, 'maxAllocationsPerUser'],
  ['no permissions at all', { maxPermissionsPerAllocation: 0 }, 'maxPermissionsPerAllocation'],
  ['an empty realm', { realm: '' }, 'realm'],
  ['an empty auth secret', { authSecrets: [''] }, 'authSecrets'],
];

for (const [name, options, field] of invalid) {
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => resolve(options), {
      name: 'TurnOptionsError',
      code: 'RTCD_TURN_OPTIONS',
      field,
    });
  });
}

t.test('reusePort needs Node >= 22.12 and says which Node this is', async (t) => {
  const error = t.throws(() => resolve({ reusePort: true }));
  t.ok(error instanceof TurnOptionsError);
  t.match(String(error), 'reusePort needs Node >= 22.12 (this is v20.20.2)');
  t.equal(resolve({ reusePort: true }, { ...env, nodeVersion: 'v22.12.0' }).reusePort, true);
  t.equal(resolve({ reusePort: true }, { ...env, nodeVersion: 'v23.0.1' }).reusePort, true);
  t.throws(() => resolve({ reusePort: true }, { ...env, nodeVersion: 'v22.11.9' }));
});
