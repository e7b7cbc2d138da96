/**
 * A call across two signaling nodes: two SignalServers share a room through a real
 * redis-server (RedisStore: membership and pub/sub delivery). Alice opens the page on node 1,
 * Bob on node 2; every join, offer, answer and candidate between them crosses Redis, and each
 * must decode the other's video and read the other's chat.
 */
import t from 'tap';
import { RedisStore } from '../../lib/signal/redis-store.js';
import { startRedis } from '../helpers/redis.js';
import {
  BROWSER_TOOLS,
  closeChromium,
  connected,
  openParticipant,
  type SignalSite,
  sharedChromium,
  startSignal,
} from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

const TOOLS = [...BROWSER_TOOLS, 'redis-server'];
t.teardown(closeChromium);

t.test(
  'two contexts on two signaling nodes joined by Redis call each other',
  toolOptions(TOOLS),
  async (t) => {
    if (!requireTools(t, TOOLS)) return;
    const redis = await startRedis();
    const nodes: Promise<SignalSite>[] = [];
    t.teardown(async () => {
      for (const node of nodes) await (await node.catch(() => undefined))?.close();
      await redis.close();
    });
    for (let i = 0; i < 2; i++) {
      nodes.push(startSignal({ store: new RedisStore({ url: redis.url, prefix: 'e2e:' }) }));
    }
    const [node1, node2] = [await nodes[0]!, await nodes[1]!];
    t.not(node1.origin, node2.origin, 'two servers');
    const room = 'e2e-redis';
    const alice = await openParticipant(await sharedChromium(), node1.origin, room);
    t.teardown(() => alice.close());
    const bob = await openParticipant(await sharedChromium(), node2.origin, room);
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
  },
);
