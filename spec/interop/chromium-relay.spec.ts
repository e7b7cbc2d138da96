/**
 * Chromium (libwebrtc) as a TURN client of `rtcd turn` (RFC 8656 over UDP and TCP): two pages
 * with `iceTransportPolicy: 'relay'` may only reach each other through relayed addresses, so a
 * connection that carries video and a data-channel message proves the whole relay path:
 * Allocate with long-term or REST credentials, CreatePermission, ChannelBind and ChannelData,
 * relay → relay forwarding between two allocations of the same server.
 *
 * The relayed addresses are 127.0.0.1 (the server relays on loopback), so the server must allow
 * loopback peers. Chromium needs no extra flag for a TURN server on 127.0.0.1: it gathers from
 * eth0 and the kernel routes to loopback; relay candidates are exempt from its loopback filter.
 */
import { createHmac } from 'node:crypto';
import t, { type Test } from 'tap';
import { CHROMIUM_PATH, launchChromium, servePage } from '../helpers/browser.js';
import type { CandidateStats, SelectedPair } from './relay-page.js';
import { RELAY_PAGE_HTML } from './relay-page.js';
import { startTarget, type TargetKind, type TargetOptions, targetKinds } from './targets.js';
import { requireTools, toolOptions } from './tools.js';

const TOOLS = [CHROMIUM_PATH];
const REALM = 'rtcd.interop';
const SECRET = 'chromium-rest-secret';
// Its own relay range (see turnutils.spec.ts), so the files can run in parallel.
const RELAY = { minPort: 31000, maxPort: 31999 };
const MIN_FRAMES = 5;

type Transport = 'udp' | 'tcp';
interface Credentials {
  username: string;
  credential: string;
}

/** TURN REST API credentials as `rtcd signal` would mint them, computed independently here. */
function restCredentials(userId: string, ttlSeconds: number): Credentials {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${userId}`;
  const credential = createHmac('sha1', SECRET).update(username).digest('base64');
  return { username, credential };
}

type Launched = Awaited<ReturnType<typeof launchChromium>>;
let browser: Promise<Launched> | undefined;
let site: ReturnType<typeof servePage> | undefined;
t.teardown(async () => {
  // A launch that failed has already failed its test; closing must not throw again.
  await (await browser?.catch(() => undefined))?.close();
  await (await site)?.close();
});

const cases: { transport: Transport; auth: 'long-term' | 'REST' }[] = [
  { transport: 'udp', auth: 'long-term' },
  { transport: 'tcp', auth: 'REST' },
];

for (const kind of targetKinds()) {
  for (const c of cases) {
    t.test(
      `${kind}: two Chromium pages relay video and data over TURN/${c.transport} (${c.auth})`,
      toolOptions(TOOLS),
      (t) => relayTest(t, kind, c.transport, c.auth),
    );
  }
}

async function relayTest(
  t: Test,
  kind: TargetKind,
  transport: Transport,
  auth: 'long-term' | 'REST',
): Promise<void> {
  if (!requireTools(t, TOOLS)) return;
  const user = { name: 'chromium', password: 'chromium-pass' };
  const options: TargetOptions =
    auth === 'REST'
      ? { realm: REALM, authSecret: SECRET, ...RELAY }
      : { realm: REALM, users: { [user.name]: user.password }, ...RELAY };
  const target = await startTarget(kind, options);
  t.teardown(() => target.close());
  const creds: Credentials =
    auth === 'REST'
      ? restCredentials('chromium', 600)
      : { username: user.name, credential: user.password };
  const port = transport === 'udp' ? target.udpPort : target.tcpPort;
  const url = `turn:127.0.0.1:${port}?transport=${transport}`;
  const config = { iceServers: [{ urls: url, ...creds }], iceTransportPolicy: 'relay' };

  browser ??= launchChromium();
  site ??= servePage(RELAY_PAGE_HTML);
  const context = await (await browser).newContext();
  t.teardown(() => context.close());
  const [offerer, answerer] = [await context.newPage(), await context.newPage()];
  for (const page of [offerer, answerer]) {
    await page.goto((await site).url);
    await page.evaluate(`peer.setup(${JSON.stringify(config)})`);
  }

  // Signalling goes through the test, non-trickle: each SDP carries its relay candidates.
  const offer = await offerer.evaluate<string>('peer.offer()');
  const answer = await answerer.evaluate<string>(`peer.answer(${JSON.stringify(offer)})`);
  await offerer.evaluate(`peer.accept(${JSON.stringify(answer)})`);
  const states = await Promise.all([
    offerer.evaluate<string>('peer.connected()'),
    answerer.evaluate<string>('peer.connected()'),
  ]);
  t.same(states, ['connected', 'connected'], 'both peer connections connected');

  const text = `hello over TURN/${transport}`;
  t.equal(
    await offerer.evaluate<string>(`peer.roundTrip(${JSON.stringify(text)})`),
    `echo:${text}`,
    'a data-channel message went to the other page and back',
  );
  for (const [name, page] of [
    ['offerer', offerer],
    ['answerer', answerer],
  ] as const) {
    const frames = await page.evaluate<number>(`peer.waitFrames(${MIN_FRAMES})`);
    t.ok(frames >= MIN_FRAMES, `${name} decoded video frames from the other page (${frames})`);
  }

  const pairs = {
    offerer: await offerer.evaluate<SelectedPair | null>('peer.selectedPair()'),
    answerer: await answerer.evaluate<SelectedPair | null>('peer.selectedPair()'),
  };
  const diag = { pairs, server: target.log() };
  for (const [name, pair] of Object.entries(pairs)) {
    t.ok(pair, `${name} has a selected candidate pair`, diag);
    if (pair === null) continue;
    t.equal(pair.state, 'succeeded', `${name}: selected pair succeeded`, diag);
    t.ok(pair.bytesSent > 0 && pair.bytesReceived > 0, `${name}: bytes both ways`, diag);
    assertRelayed(t, `${name} local`, pair.local, target, diag);
    assertRelayed(t, `${name} remote`, pair.remote, target, diag);
    // The protocol Chromium spoke to our server, and which server it was.
    t.equal(pair.local.relayProtocol, transport, `${name}: relayProtocol ${transport}`, diag);
    t.equal(pair.local.url, url, `${name}: candidate came from ${url}`, diag);
  }
  if (pairs.offerer !== null && pairs.answerer !== null) {
    // Each side's local relayed address is the other side's remote one: one relay ↔ relay path.
    t.same(endpoint(pairs.offerer.local), endpoint(pairs.answerer.remote), 'offerer relay');
    t.same(endpoint(pairs.answerer.local), endpoint(pairs.offerer.remote), 'answerer relay');
  }
  const stats = target.stats;
  if (stats !== undefined) {
    t.ok(stats.peakAllocations >= 2, 'rtcd held an allocation for each page', diag);
    t.ok(stats.relayedBytes['client-to-peer'] > 0, 'rtcd relayed client → peer', diag);
    t.ok(stats.relayedBytes['peer-to-client'] > 0, 'rtcd relayed peer → client', diag);
    // libwebrtc installs a permission for the other relay, then binds a channel to it.
    const permissions = stats.responses.get('create-permission:0') ?? 0;
    const channels = stats.responses.get('channel-bind:0') ?? 0;
    t.ok(permissions >= 2, `rtcd granted permissions (${permissions})`, diag);
    t.ok(channels >= 2, `rtcd bound channels (${channels})`, diag);
  }
}

function endpoint(c: CandidateStats): string {
  return `${c.address}:${c.port}`;
}

function assertRelayed(
  t: Test,
  name: string,
  c: CandidateStats,
  target: { minPort: number; maxPort: number },
  diag: object,
): void {
  t.equal(c.candidateType, 'relay', `${name} candidate is relay`, diag);
  t.equal(c.protocol, 'udp', `${name} relayed transport is UDP`, diag);
  t.equal(c.address, '127.0.0.1', `${name} address is the server's relay address`, diag);
  t.ok(
    c.port >= target.minPort && c.port <= target.maxPort,
    `${name} port ${c.port} is in the server's relay range`,
    diag,
  );
}
