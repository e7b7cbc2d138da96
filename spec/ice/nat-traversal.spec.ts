import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import {
  buildNatTopology,
  type JsonChild,
  type JsonEvent,
  type NatKind,
  type NatTopology,
} from '../helpers/netns.js';

const NODE = fileURLToPath(new URL('../helpers/ice-node.ts', import.meta.url));
const PUB = '198.51.100.1';

async function topology(t: Test, a: NatKind, b: NatKind): Promise<NatTopology | undefined> {
  try {
    const topo = await buildNatTopology(a, b);
    t.teardown(() => topo.destroy());
    return topo;
  } catch (err) {
    // Root, iproute2 and iptables are part of the test environment (.ci/run installs them).
    if (process.env.CI === 'true') throw err;
    t.pass('namespaces need root', {
      skip: `cannot build network namespaces: ${(err as Error).message}`,
    });
    return undefined;
  }
}

function agentOptions(controlling: boolean): string {
  return JSON.stringify({
    controlling,
    stunServers: [`stun:${PUB}:3478`],
    turnServers: [{ urls: `turn:${PUB}:3478`, username: 'nat', credential: 'nat-pw' }],
    taMs: 20,
    checkRtoMs: 200,
    nominationDelayMs: 1000,
    gatherTimeoutMs: 3000,
    connectTimeoutMs: 15_000,
  });
}

/** Relays one agent's parameters and candidates to the other, as signaling would. */
async function wire(from: JsonChild, to: JsonChild): Promise<void> {
  const p = await from.wait((m) => m.event === 'params');
  to.send({ cmd: 'remote', ufrag: p.ufrag, pwd: p.pwd });
  await from.wait((m) => m.event === 'gathering-complete');
  for (const m of from.events)
    if (m.event === 'candidate') to.send({ cmd: 'candidate', line: m.line });
  to.send({ cmd: 'end' });
}

type Side = { local: { type: string }; remote: { type: string } };

function toSide(m: JsonEvent): Side {
  return { local: m.local as Side['local'], remote: m.remote as Side['remote'] };
}

async function connect(t: Test, topo: NatTopology): Promise<[Side, Side, JsonChild, JsonChild]> {
  const turn = topo.spawnNode(topo.pub, NODE, ['turn', PUB, '198.51.100.0/24', '203.0.113.0/24']);
  await turn.wait((m) => m.event === 'ready');
  const a = topo.spawnNode(topo.privA, NODE, ['agent', agentOptions(true)]);
  const b = topo.spawnNode(topo.privB, NODE, ['agent', agentOptions(false)]);
  await Promise.all([wire(a, b), wire(b, a)]);
  const types = (c: JsonChild) =>
    c.events.filter((m) => m.event === 'candidate').map((m) => String(m.line).split(' ')[7]);
  t.same(new Set(types(a)), new Set(['host', 'srflx', 'relay']), 'A gathered host, srflx, relay');
  t.same(new Set(types(b)), new Set(['host', 'srflx', 'relay']), 'B gathered host, srflx, relay');
  a.send({ cmd: 'connect' });
  b.send({ cmd: 'connect' });
  const [sa, sb] = await Promise.all([
    a.wait((m) => m.event === 'selected' || m.event === 'error'),
    b.wait((m) => m.event === 'selected' || m.event === 'error'),
  ]);
  t.equal(sa.event, 'selected', 'A selected a pair');
  t.equal(sb.event, 'selected', 'B selected a pair');
  // Data both ways over the selected pair.
  a.send({ cmd: 'send', hex: '80aa01' });
  t.equal((await b.wait((m) => m.event === 'data')).hex, '80aa01', 'A → B');
  b.send({ cmd: 'send', hex: '80bb02' });
  t.equal((await a.wait((m) => m.event === 'data')).hex, '80bb02', 'B → A');
  return [toSide(sa), toSide(sb), a, b];
}

t.test('two port-restricted (endpoint-independent mapping) NATs: a direct pair', async (t) => {
  const topo = await topology(t, 'eim', 'eim');
  if (topo === undefined) return;
  const [sa, sb] = await connect(t, topo);
  const direct = ['srflx', 'prflx'];
  // EIM: the mapping a peer sees is the one the STUN server reported, i.e. the srflx.
  t.equal(sa.local.type, 'srflx', "A's local is its server-reflexive candidate");
  t.ok(direct.includes(sa.remote.type), `A's remote is ${sa.remote.type}`);
  t.equal(sb.local.type, 'srflx', "B's local is its server-reflexive candidate");
  t.ok(direct.includes(sb.remote.type), `B's remote is ${sb.remote.type}`);
});

t.test('port-restricted NAT against a symmetric NAT: only the relay gets through', async (t) => {
  const topo = await topology(t, 'eim', 'symmetric');
  if (topo === undefined) return;
  const [sa, sb] = await connect(t, topo);
  // B's NAT gives every destination a new port: A sees B only as peer-reflexive, via relay.
  t.ok(
    sa.local.type === 'relay' || sa.remote.type === 'relay',
    `A's pair goes through the relay (${sa.local.type} → ${sa.remote.type})`,
  );
  t.ok(
    sb.local.type === 'relay' || sb.remote.type === 'relay',
    `B's pair goes through the relay (${sb.local.type} → ${sb.remote.type})`,
  );
});
