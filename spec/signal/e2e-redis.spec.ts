/**
 * A call across two signaling nodes: two SignalServers share a room through a real
 * redis-server (RedisStore: membership and pub/sub delivery). Alice opens the page on node 1,
 * Bob on node 2; every join, offer, answer and candidate between them crosses Redis, and each
 * must decode the other's video and read the other's chat.
 */
import t from 'tap';
import { RedisStore } from '../../lib/signal/redis-store.js';
import { launchChromium } from '../helpers/browser.js';
import { startRedis } from '../helpers/redis.js';
import {
  connected,
  openParticipant,
  type SignalSite,
  startSignal,
} from '../helpers/signal-page.js';

const browser = launchChromium();
const redis = startRedis();
const nodes: Promise<SignalSite>[] = [];
t.teardown(async () => {
  await (await browser.catch(() => undefined))?.close();
  for (const node of nodes) await (await node.catch(() => undefined))?.close();
  await (await redis.catch(() => undefined))?.close();
});

t.test('two contexts on two signaling nodes joined by Redis call each other', async (t) => {
  const { url } = await redis;
  for (let i = 0; i < 2; i++) {
    nodes.push(startSignal({ store: new RedisStore({ url, prefix: 'e2e:' }) }));
  }
  const [node1, node2] = [await nodes[0]!, await nodes[1]!];
  t.not(node1.origin, node2.origin, 'two servers');
  const room = 'e2e-redis';
  const alice = await openParticipant(await browser, node1.origin, room);
  t.teardown(() => alice.close());
  const bob = await openParticipant(await browser, node2.origin, room);
  t.teardown(() => bob.close());
  const [a, b] = await connected(alice, bob);

  t.ok((await alice.waitFrames(b, 'camera', 1)) > 0, 'alice (node 1) decodes bob’s video');
  t.ok((await bob.waitFrames(a, 'camera', 1)) > 0, 'bob (node 2) decodes alice’s video');
  await bob.page.fill('#chat-input', 'hello across nodes');
  await bob.page.press('#chat-input', 'Enter');
  await alice.until('chat', (s) =>
    s.chat.some((l) => l.from === b && l.text === 'hello across nodes'),
  );
  t.pass('chat crosses too');

  await bob.page.click('#leave');
  await alice.until('bob left', (s) => !s.peers.some((p) => p.peerId === b));
  t.pass('leaving on node 2 reaches node 1');
});
