import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  CliUsageError,
  type ConfigSources,
  configPath,
  readConfigFile,
  resolveDevConfig,
  resolveTurnConfig,
} from '../../lib/cli/config.js';
import { envName, kebab, turnOptions } from '../../lib/cli/option-spec.js';

const file = (data: unknown) => ({ path: 'rtcd.json', data });
const turn = (src: Partial<ConfigSources>) => resolveTurnConfig({ flags: {}, env: {}, ...src });

/** The one-line message of the CliUsageError `fn` throws. */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliUsageError) return err.message;
    throw err;
  }
  throw new Error('expected a CliUsageError, nothing was thrown');
}

t.test('names: flag in kebab-case, variable in RTCD_UPPER_SNAKE', async (t) => {
  t.equal(kebab('maxAllocationsPerUser'), 'max-allocations-per-user');
  t.equal(envName('allowLoopbackPeers'), 'RTCD_ALLOW_LOOPBACK_PEERS');
  t.equal(envName('authSecret'), 'RTCD_AUTH_SECRET');
});

t.test('with no source set, only the defaults of the CLI itself appear', async (t) => {
  t.same(turn({}), { turn: {}, workers: 1, logLevel: 'info' });
});

t.test('precedence for a scalar: flag > env > file > default', async (t) => {
  const f = file({ maxPort: 60001 });
  const env = { RTCD_MAX_PORT: '60002' };
  const flags = { maxPort: '60003' };
  t.equal(turn({}).turn.maxPort, undefined, 'default: left to TurnServer');
  t.equal(turn({ file: f }).turn.maxPort, 60001, 'file');
  t.equal(turn({ file: f, env }).turn.maxPort, 60002, 'env beats file');
  t.equal(turn({ file: f, env, flags }).turn.maxPort, 60003, 'flag beats env');
});

t.test('precedence for a repeatable: the highest source gives the whole list', async (t) => {
  const f = file({ listen: ['10.0.0.1:3478', '[::]:3478'] });
  const env = { RTCD_LISTEN: '0.0.0.0:3479, [::1]:3479' };
  const flags = { listen: ['127.0.0.1:5000'] };
  t.same(turn({ file: f }).turn.listen, [
    { host: '10.0.0.1', port: 3478 },
    { host: '::', port: 3478 },
  ]);
  t.same(turn({ file: f, env }).turn.listen, [
    { host: '0.0.0.0', port: 3479 },
    { host: '::1', port: 3479 },
  ]);
  t.same(turn({ file: f, env, flags }).turn.listen, [{ host: '127.0.0.1', port: 5000 }]);
});

t.test('a single string in the file is a one-item list', async (t) => {
  t.same(turn({ file: file({ authSecret: 's3cret' }) }).turn.authSecrets, ['s3cret']);
});

t.test('booleans: switch, --no- switch, env words, JSON booleans', async (t) => {
  const get = (src: Partial<ConfigSources>) => turn(src).turn.allowLoopbackPeers;
  t.equal(get({ flags: { allowLoopbackPeers: true } }), true);
  t.equal(get({ env: { RTCD_ALLOW_LOOPBACK_PEERS: 'true' } }), true);
  t.equal(get({ env: { RTCD_ALLOW_LOOPBACK_PEERS: '0' } }), false);
  t.equal(get({ file: file({ allowLoopbackPeers: true }) }), true);
  t.equal(
    get({ flags: { allowLoopbackPeers: false }, env: { RTCD_ALLOW_LOOPBACK_PEERS: 'yes' } }),
    false,
    '--no-allow-loopback-peers beats the environment',
  );
});

t.test('every turn option maps onto its TurnServerOptions field', async (t) => {
  const flags = {
    listen: ['127.0.0.1:3478'],
    tlsListen: ['127.0.0.1:5349'],
    cert: 'c.pem',
    key: 'k.pem',
    realm: 'example.org',
    user: ['alice:pa:ss', 'bob:x'],
    usersFile: 'users.txt',
    authSecret: ['one', 'two'],
    relayIp: ['192.0.2.10', '2001:db8::10'],
    externalIp: ['203.0.113.5/192.0.2.10'],
    minPort: '50000',
    maxPort: '50100',
    allowPeer: ['10.1.0.0/16'],
    denyPeer: ['198.51.100.0/24', '2001:db8::/32'],
    allowLoopbackPeers: true,
    legacyChannelNumbers: true,
    maxAllocationsPerUser: '3',
    maxAllocations: '100',
    maxPermissionsPerAllocation: '64',
    maxBps: '1000000',
    bpsCapacity: '50000000',
    defaultLifetime: '300',
    maxLifetime: '1200',
    nonceLifetime: '120',
    passwordAlgorithm: ['md5', 'sha256'],
    software: '',
    maxConnections: '50',
    listenerBufferSize: '8388608',
    relayBufferSize: '65536',
    fastUdpSend: false,
    metricsListen: '127.0.0.1:9100',
    drainTimeout: '0',
    workers: '2',
    logLevel: 'debug',
  };
  t.same(Object.keys(flags).sort(), [...Object.keys(turnOptions), 'logLevel'].sort(), 'all');
  t.same(turn({ flags }), {
    turn: {
      listen: [{ host: '127.0.0.1', port: 3478 }],
      tlsListen: [{ host: '127.0.0.1', port: 5349 }],
      cert: 'c.pem',
      key: 'k.pem',
      realm: 'example.org',
      users: { alice: 'pa:ss', bob: 'x' },
      usersFile: 'users.txt',
      authSecrets: ['one', 'two'],
      relayIps: ['192.0.2.10', '2001:db8::10'],
      externalIps: ['203.0.113.5/192.0.2.10'],
      minPort: 50000,
      maxPort: 50100,
      allowPeers: ['10.1.0.0/16'],
      denyPeers: ['198.51.100.0/24', '2001:db8::/32'],
      allowLoopbackPeers: true,
      legacyChannelNumbers: true,
      maxAllocationsPerUser: 3,
      maxAllocations: 100,
      maxPermissionsPerAllocation: 64,
      maxBps: 1000000,
      bpsCapacity: 50000000,
      defaultLifetime: 300,
      maxLifetime: 1200,
      nonceLifetime: 120,
      passwordAlgorithms: ['md5', 'sha256'],
      software: '',
      maxConnections: 50,
      listenerBufferSize: 8388608,
      relayBufferSize: 65536,
      fastUdpSend: false,
      metricsListen: { host: '127.0.0.1', port: 9100 },
      drainTimeoutMs: 0,
    },
    workers: 2,
    logLevel: 'debug',
  });
});

t.test('bad values give one line naming the option, the value and why', async (t) => {
  const cases: [string, Partial<ConfigSources>, string][] = [
    [
      'unknown password algorithm',
      { flags: { passwordAlgorithm: ['sha1'] } },
      'invalid --password-algorithm "sha1": must be md5 or sha256',
    ],
    [
      'password algorithm twice',
      { env: { RTCD_PASSWORD_ALGORITHM: 'sha256,sha256' } },
      'invalid --password-algorithm "sha256": given twice',
    ],
    [
      'port out of range',
      { flags: { maxPort: '70000' } },
      'invalid --max-port "70000": must be an integer 1-65535',
    ],
    [
      'non-numeric number',
      { flags: { maxAllocations: '10k' } },
      'invalid --max-allocations "10k": must be an integer >= 1',
    ],
    [
      'negative number',
      { flags: { drainTimeout: '-1' } },
      'invalid --drain-timeout "-1": must be an integer >= 0',
    ],
    [
      'bad CIDR',
      { flags: { denyPeer: ['10.0.0.0/33'] } },
      'invalid --deny-peer "10.0.0.0/33": must be a CIDR (address/prefix, e.g. 10.0.0.0/8) or an IP address',
    ],
    [
      'listen without port',
      { flags: { listen: ['0.0.0.0'] } },
      'invalid --listen "0.0.0.0": must be host:port with an IP address, e.g. 0.0.0.0:3478 or [::]:3478',
    ],
    [
      'IPv6 listen without brackets',
      { flags: { listen: ['::1:3478'] } },
      'invalid --listen "::1:3478": must be host:port with an IP address, e.g. 0.0.0.0:3478 or [::]:3478',
    ],
    [
      'listen host name',
      { flags: { listen: ['localhost:3478'] } },
      'invalid --listen "localhost:3478": "localhost" is not an IP address (no host names)',
    ],
    [
      'listen port too big',
      { flags: { listen: ['[::]:65536'] } },
      'invalid --listen "[::]:65536": port must be an integer 0-65535',
    ],
    [
      'user without password',
      { flags: { user: ['alice'] } },
      'invalid --user "alice": must be name:password',
    ],
    [
      'relay IP that is a name',
      { flags: { relayIp: ['relay.example'] } },
      'invalid --relay-ip "relay.example": must be an IPv4 or IPv6 address',
    ],
    [
      'external IP of two families',
      { flags: { externalIp: ['203.0.113.5/::1'] } },
      'invalid --external-ip "203.0.113.5/::1": public and private must be one family',
    ],
    [
      'log level',
      { flags: { logLevel: 'loud' } },
      'invalid --log-level "loud": must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      'bad value in an environment variable',
      { env: { RTCD_MIN_PORT: 'abc' } },
      'invalid RTCD_MIN_PORT "abc": must be an integer 1-65535',
    ],
    [
      'bad item of a comma-separated variable',
      { env: { RTCD_LISTEN: '0.0.0.0:3478,[::]:x' } },
      'invalid RTCD_LISTEN "[::]:x": must be host:port with an IP address, e.g. 0.0.0.0:3478 or [::]:3478',
    ],
    [
      'bad boolean in the environment',
      { env: { RTCD_ALLOW_LOOPBACK_PEERS: 'maybe' } },
      'invalid RTCD_ALLOW_LOOPBACK_PEERS "maybe": must be true or false',
    ],
    [
      'bad value in the file',
      { file: file({ maxPort: 70000 }) },
      'invalid maxPort "70000" in rtcd.json: must be an integer 1-65535',
    ],
    [
      'a fraction where the file needs an integer',
      { file: file({ maxBps: 1.5 }) },
      'invalid maxBps "1.5" in rtcd.json: must be an integer >= 1',
    ],
    [
      'an object where the file needs a scalar',
      { file: file({ realm: { name: 'x' } }) },
      'invalid realm in rtcd.json: must be a string, number or boolean',
    ],
    [
      'a number where the file needs text',
      { file: file({ listen: [3478] }) },
      'invalid listen "3478" in rtcd.json: must be host:port with an IP address, e.g. 0.0.0.0:3478 or [::]:3478 (a string)',
    ],
    [
      'min above max',
      { flags: { minPort: '60000', maxPort: '50000' } },
      'invalid --min-port "60000": must not exceed --max-port (50000)',
    ],
    [
      'TLS without a certificate',
      { flags: { tlsListen: ['0.0.0.0:5349'] } },
      '--tls-listen needs --cert and --key',
    ],
    [
      'workers with ephemeral ports',
      { flags: { workers: '4', listen: ['127.0.0.1:0'] } },
      'invalid --workers "4": needs fixed ports (with port 0 each worker gets its own)',
    ],
  ];
  for (const [name, src, message] of cases) {
    const got = usageError(() => turn(src));
    t.equal(got, message, name);
    t.notMatch(got, /\n/, `${name}: one line`);
  }
});

t.test('an unknown config-file key is refused by name', async (t) => {
  t.equal(
    usageError(() => turn({ file: file({ listen: ['0.0.0.0:3478'], maxPorts: 1 }) })),
    'unknown key "maxPorts" in config file rtcd.json',
  );
  t.equal(
    usageError(() => turn({ file: file({ 'max-port': 1 }) })),
    'unknown key "max-port" in config file rtcd.json (keys are camelCase)',
  );
  t.equal(
    usageError(() => turn({ file: file({ config: 'other.json' }) })),
    'unknown key "config" in config file rtcd.json',
    'a config file cannot name another',
  );
  t.equal(
    usageError(() => turn({ file: file(['listen']) })),
    'config file rtcd.json must hold a JSON object',
  );
});

t.test('unrelated RTCD_ variables and empty lists', async (t) => {
  t.same(turn({ env: { RTCD_SOMETHING_ELSE: 'x', PATH: '/bin' } }).turn, {});
  t.same(turn({ env: { RTCD_AUTH_SECRET: '' }, file: file({ authSecret: ['a'] }) }).turn, {
    authSecrets: [],
  });
});

t.test('config path: --config beats RTCD_CONFIG', async (t) => {
  t.equal(configPath({ flags: { config: 'a.json' }, env: { RTCD_CONFIG: 'b.json' } }), 'a.json');
  t.equal(configPath({ flags: {}, env: { RTCD_CONFIG: 'b.json' } }), 'b.json');
  t.equal(configPath({ flags: {}, env: {} }), undefined);
});

t.test('readConfigFile: JSON in, one-line errors out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtcd-config-'));
  const good = join(dir, 'good.json');
  const bad = join(dir, 'bad.json');
  writeFileSync(good, '{"listen": ["0.0.0.0:3478"], "user": ["a:b"]}');
  writeFileSync(bad, '{"listen": [}');
  t.same(readConfigFile(good), { path: good, data: { listen: ['0.0.0.0:3478'], user: ['a:b'] } });
  t.match(
    usageError(() => readConfigFile(bad)),
    /^config file .*bad\.json is not valid JSON: /,
  );
  t.equal(
    usageError(() => readConfigFile(join(dir, 'missing.json'))),
    `cannot read config file ${join(dir, 'missing.json')}: ENOENT`,
  );
  const cfg = turn({ file: readConfigFile(good) });
  t.same(cfg.turn, { listen: [{ host: '0.0.0.0', port: 3478 }], users: { a: 'b' } });
});

t.test('dev: port and log level, no config file', async (t) => {
  t.same(resolveDevConfig({ flags: {}, env: {} }), {
    port: 3478,
    signalPort: 8080,
    sfuPort: 8090,
    logLevel: 'info',
  });
  t.same(
    resolveDevConfig({
      flags: { port: '0', signalPort: '0', sfuPort: '0' },
      env: { RTCD_LOG_LEVEL: 'warn' },
    }),
    { port: 0, signalPort: 0, sfuPort: 0, logLevel: 'warn' },
  );
  t.equal(
    usageError(() => resolveDevConfig({ flags: { port: '99999' }, env: {} })),
    'invalid --port "99999": must be an integer 0-65535',
  );
  t.equal(
    usageError(() => resolveDevConfig({ flags: { config: 'x.json' }, env: {} })),
    'rtcd dev takes no config file (--config); its settings are generated',
  );
});
