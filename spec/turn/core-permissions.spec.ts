import t from 'tap';
import { StunMethod } from '../../lib/stun/constants.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import { Allocation } from '../../lib/turn/allocation.js';
import {
  channelAttr,
  errorCode,
  FakeClient,
  type FakeRelay,
  fixture,
  lifetimeAttr,
  peerAttr,
  relayOf,
  TestClient,
} from './core-fixture.js';

const peer = (i: number): TransportAddress => ({
  family: 4,
  address: `93.184.${216 + (i >> 8)}.${i & 0xff}`,
  port: 6000 + i,
});

function allocated(options = {}) {
  const f = fixture(options);
  const c = new TestClient(f);
  if (errorCode(c.allocate()) !== 0) throw new Error('allocate failed');
  const permit = (...peers: TransportAddress[]) =>
    errorCode(
      c.request(StunMethod.createPermission, (b) => {
        for (const p of peers) peerAttr(b, p);
      }),
    );
  const bind = (p: TransportAddress, channel: number) =>
    errorCode(c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, p), channel)));
  return { f, c, permit, bind, start: f.clock.now };
}

t.test('RFC 8656 §10.2: 508 for permissions beyond maxPermissionsPerAllocation', async (t) => {
  const { f, permit } = allocated({ maxPermissionsPerAllocation: 3 });
  t.equal(permit(peer(0), peer(1)), 0, 'two of three');
  t.equal(permit(peer(2), peer(3)), 508, 'two more would make four');
  t.equal(f.observer.lastGauges.permissions, 2, 'all or nothing: neither was installed');
  t.equal(permit(peer(0), peer(1), peer(2)), 0, 'refreshing two and adding one fits');
  t.equal(permit(peer(0), peer(1), peer(2)), 0, 'refreshing all three at the limit fits');
  t.equal(permit(peer(3)), 508, 'one more does not');
  t.equal(f.observer.responses.at(-1), 'create-permission 508');
  t.equal(f.observer.lastGauges.permissions, 3);
});

t.test('§12.2: a ChannelBind that needs a new permission beyond the limit is a 508', async (t) => {
  const { f, permit, bind } = allocated({ maxPermissionsPerAllocation: 1 });
  t.equal(permit(peer(0)), 0);
  t.equal(bind(peer(1), 0x4000), 508, 'a second peer IP');
  t.equal(f.observer.lastGauges.channels, 0, 'and no channel was bound');
  t.equal(bind(peer(0), 0x4000), 0, 'a channel to the permitted IP needs no new permission');
  t.equal(bind({ ...peer(0), port: 1 }, 0x4001), 0, 'nor does another port of it');
});

t.test('the same IP twice in one CreatePermission is one permission', async (t) => {
  const { f, permit } = allocated({ maxPermissionsPerAllocation: 1 });
  t.equal(permit(peer(0), { ...peer(0), port: 1 }), 0);
  t.equal(f.observer.lastGauges.permissions, 1);
});

t.test('expired permissions make room again, swept or not yet', async (t) => {
  const { f, permit, start } = allocated({ maxPermissionsPerAllocation: 2 });
  t.equal(permit(peer(0), peer(1)), 0);
  f.clock.now = start + 300_000;
  t.equal(permit(peer(2), peer(3)), 0, 'at 300 s, before any tick, both have expired');
  t.equal(f.observer.lastGauges.permissions, 2);
});

t.test('sweeping removes exactly what expired, in refresh order', async (t) => {
  // Refreshing moves a permission (or channel) to the end, which keeps expiry order.
  const { f, c, permit, bind, start } = allocated({ maxLifetime: 3600 });
  t.equal(errorCode(c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 3600))), 0);
  const relay = relayOf(f);
  t.equal(permit(peer(0)), 0);
  f.clock.now = start + 1000;
  t.equal(permit(peer(1)), 0);
  t.equal(bind(peer(2), 0x4000), 0);
  t.equal(bind(peer(3), 0x4001), 0);
  f.clock.now = start + 2000;
  t.equal(permit(peer(0)), 0, 'peer 0 refreshed: now the last to expire');
  t.equal(bind(peer(2), 0x4000), 0, 'channel 0x4000 refreshed likewise');
  f.clock.now = start + 301_000;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.permissions, 2, 'peers 1 and 3 gone; 0 and 2 were refreshed');
  f.clock.now = start + 302_000;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.permissions, 0, 'then 0 and 2');
  f.clock.now = start + 601_000;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.channels, 1, '0x4001 expired, 0x4000 not yet');
  f.core.handlePeerPacket(relay, peer(2).address, peer(2).port, Buffer.from('x'), f.clock.now);
  t.equal(f.observer.drops.at(-1), 'no-permission', 'a channel without its permission');
  f.clock.now = start + 602_000;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.channels, 0);
  const allocation = [...f.core.table.values()][0]!;
  t.equal(allocation.peers.size, 0, 'no peer entry is left behind');
});

t.test('a sweep costs what expires, not what the allocation holds', async (t) => {
  // One client made 500 000 permissions and every later request swept them all (~18 ms per
  // request). Permissions are kept in expiry order, so a sweep stops at the first live one.
  const allocation = new Allocation<FakeClient, FakeRelay>({
    client: new FakeClient({ family: 4, address: '198.51.100.7', port: 40000 }),
    username: 'alice',
    user: 'alice',
    family: 4,
    transactionId: Buffer.alloc(12),
    maxBps: 1e6,
  });
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    allocation.permit(`10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, 300_000 + i);
  }
  t.equal(allocation.permissionCount, n);
  const started = performance.now();
  for (let now = 0; now < 2000; now++) allocation.sweep(now);
  const ms = performance.now() - started;
  t.ok(ms < 50, `2000 sweeps of ${n} live permissions took ${ms.toFixed(1)} ms (< 50)`);
  t.same(allocation.sweep(300_000 + 99), { permissions: 100, channels: 0 }, 'the first 100');
  t.equal(allocation.permissionCount, n - 100);
  t.equal(allocation.peers.size, n - 100);
});
