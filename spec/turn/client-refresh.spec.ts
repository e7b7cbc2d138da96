/**
 * autoRefresh: the allocation (RFC 8656 §8), permissions (§9, 300 s) and channel bindings
 * (§12, 600 s) are refreshed before they expire, from one timer over a sans-IO schedule.
 */
import t, { type Test } from 'tap';
import {
  AttributeType,
  decodeLifetime,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
} from '../../lib/stun/index.js';
import type { TurnClientOptions } from '../../lib/turn/client.js';
import { RefreshSchedule } from '../../lib/turn/client-refresh.js';
import {
  decodeFrame as decode,
  type ScriptedServer,
  scriptedClient,
} from '../helpers/scripted-server.js';

const PEER = { family: 4, address: '192.0.2.7', port: 7000 } as const;

t.test('RefreshSchedule: one minute early, half time for short lifetimes', async (t) => {
  const s = new RefreshSchedule();
  t.equal(s.delay(600), 540);
  t.equal(s.delay(300), 240, 'permissions: 4 minutes');
  t.equal(s.delay(100), 50, 'short lifetimes at half time');
  t.equal(s.nextDue(), undefined);

  s.allocation(600, 0);
  s.permission('192.0.2.1', 1000);
  s.channel(0x4000, PEER, 2000);
  t.equal(s.nextDue(), 241_000, 'the permission comes first');
  t.same(s.take(240_999), { allocation: false, permissions: [], channels: [] });
  t.same(s.take(241_000), { allocation: false, permissions: ['192.0.2.1'], channels: [] });
  t.equal(s.nextDue(), 540_000);
  t.same(s.take(600_000), { allocation: true, permissions: [], channels: [[0x4000, PEER]] });
  t.equal(s.nextDue(), undefined, 'taken items wait for their next success');

  s.allocation(0, 0);
  t.equal(s.nextDue(), undefined, 'lifetime 0 is not refreshed');
  t.throws(() => new RefreshSchedule({ margin: 0 }), TypeError);
  t.throws(() => new RefreshSchedule({ permissionLifetime: Number.NaN }), TypeError);
});

/** Answers Allocate with a 1 s allocation, Refresh with LIFETIME 1, the rest with success. */
function answer(bytes: Buffer, s: ScriptedServer, failRefresh = false): void {
  if ((bytes[0]! & 0xc0) !== 0) return;
  const m = decode(bytes);
  if (m.messageClass !== StunClass.request) return;
  if (failRefresh && m.method === StunMethod.refresh) {
    const b = StunMessageBuilder.responseTo(m, StunClass.error).addErrorCode(437);
    s.send(b.addFingerprint().toBuffer());
    return;
  }
  const b = StunMessageBuilder.responseTo(m, StunClass.success);
  if (m.method === StunMethod.allocate) {
    b.addXorAddress(AttributeType.XOR_RELAYED_ADDRESS, {
      family: 4,
      address: '127.0.0.1',
      port: 50000,
    })
      .addXorAddress(AttributeType.XOR_MAPPED_ADDRESS, { family: 4, address: '127.0.0.1', port: 1 })
      .addUint32(AttributeType.LIFETIME, 1);
  } else if (m.method === StunMethod.refresh) {
    const requested = decodeLifetime(m, m.get(AttributeType.LIFETIME)!);
    b.addUint32(AttributeType.LIFETIME, requested === 0 ? 0 : 1);
  }
  s.send(b.addFingerprint().toBuffer());
}

async function setup(t: Test, options: Partial<TurnClientOptions>, failRefresh = false) {
  const running = await scriptedClient(t, 'udp', { closeTimeoutMs: 200, ...options });
  running.server.onFrame = (bytes, s) => answer(bytes, s, failRefresh);
  return running;
}

function count(server: ScriptedServer, method: number, from = 0): StunMessage[] {
  return server.frames
    .slice(from)
    .map((f) => decode(f.bytes))
    .filter((m) => m.method === method && m.messageClass === StunClass.request);
}

t.test('autoRefresh refreshes allocation, permissions and channels', async (t) => {
  const { server, client } = await setup(t, {
    autoRefresh: { permissionLifetime: 0.2, channelLifetime: 0.4, margin: 10 },
  });
  await client.allocate(); // LIFETIME 1: refreshed every 500 ms
  await client.createPermission([PEER.address]); // every 100 ms
  await client.channelBind(PEER, 0x4123); // every 200 ms
  const start = server.frames.length;
  await new Promise((resolve) => setTimeout(resolve, 800));
  const permissions = count(server, StunMethod.createPermission, start);
  const binds = count(server, StunMethod.channelBind, start);
  const refreshes = count(server, StunMethod.refresh, start);
  t.ok(permissions.length >= 3, `${permissions.length} CreatePermission refreshes`);
  t.ok(binds.length >= 2, `${binds.length} ChannelBind refreshes`);
  t.ok(refreshes.length >= 1, `${refreshes.length} Refresh`);
  for (const m of binds) {
    t.same(m.value(AttributeType.CHANNEL_NUMBER), Buffer.from([0x41, 0x23, 0, 0]), 'same channel');
  }
  t.equal(decodeLifetime(refreshes[0]!, refreshes[0]!.get(AttributeType.LIFETIME)!), 1);

  await client.close();
  const afterClose = server.frames.length;
  await new Promise((resolve) => setTimeout(resolve, 250));
  t.equal(server.frames.length, afterClose, 'nothing is refreshed after close');
  t.equal(decode(server.frames.at(-1)!.bytes).method, StunMethod.refresh, 'close sent Refresh');
});

t.test('without autoRefresh nothing is sent on its own', async (t) => {
  const { server, client } = await setup(t, {});
  await client.allocate();
  await client.createPermission([PEER.address]);
  const before = server.frames.length;
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.equal(server.frames.length, before);
});

t.test('a failed automatic refresh is reported as an error event', async (t) => {
  const { client } = await setup(t, { autoRefresh: { margin: 10 } }, true);
  const error = new Promise<Error>((resolve) => client.once('error', resolve));
  await client.allocate();
  t.match(await error, { code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE', stunCode: 437 });
});
