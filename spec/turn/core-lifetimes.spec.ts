import t from 'tap';
import { AttributeType, StunMethod } from '../../lib/stun/constants.js';
import {
  channelAttr,
  channelData,
  errorCode,
  fixture,
  lifetimeAttr,
  peerAttr,
  relayOf,
  TestClient,
  uint32,
} from './core-fixture.js';

const PEER = { family: 4 as const, address: '93.184.216.34', port: 6000 };

function allocated(options = {}) {
  const f = fixture(options);
  const c = new TestClient(f);
  const response = c.allocate();
  if (errorCode(response) !== 0) throw new Error('allocate failed');
  return { f, c, start: f.clock.now };
}

t.test('RFC 8656 §7: an allocation expires exactly at its granted lifetime', async (t) => {
  const { f, c, start } = allocated();
  f.clock.now = start + 600_000 - 1;
  f.core.tick(f.clock.now);
  t.equal(f.core.allocationCount, 1, 'alive 1 ms before');
  f.clock.now = start + 600_000;
  f.core.tick(f.clock.now);
  t.equal(f.core.allocationCount, 0, 'gone at 600 s');
  t.equal(f.effects.closedRelays.length, 1, 'its relay socket closed');
  t.same(f.effects.releasedClients, [c.ref]);
  t.equal(f.observer.lastGauges.allocations, 0);
});

t.test('an expired allocation is gone even before the tick sweeps it', async (t) => {
  const { f, c, start } = allocated();
  f.clock.now = start + 600_000;
  t.equal(errorCode(c.request(StunMethod.refresh)), 437);
  t.equal(f.core.allocationCount, 0);
});

t.test('§8: Refresh restarts the lifetime, clamped like Allocate', async (t) => {
  const { f, c, start } = allocated({ maxLifetime: 1800 });
  f.clock.now = start + 500_000;
  const response = c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 7200));
  t.equal(uint32(response, AttributeType.LIFETIME), 1800);
  f.clock.now = start + 500_000 + 1_800_000 - 1;
  f.core.tick(f.clock.now);
  t.equal(f.core.allocationCount, 1, 'still alive past the first 600 s');
  f.clock.now += 1;
  f.core.tick(f.clock.now);
  t.equal(f.core.allocationCount, 0);
});

t.test('§8: Refresh without LIFETIME grants the default', async (t) => {
  const { c } = allocated();
  t.equal(uint32(c.request(StunMethod.refresh), AttributeType.LIFETIME), 600);
});

t.test('§8: Refresh with LIFETIME 0 deletes the allocation', async (t) => {
  const { f, c } = allocated();
  const response = c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 0));
  t.equal(errorCode(response), 0);
  t.equal(uint32(response, AttributeType.LIFETIME), 0);
  t.equal(f.core.allocationCount, 0);
  t.equal(f.effects.closedRelays.length, 1);
  t.equal(errorCode(c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 0))), 437);
});

t.test('Refresh without an allocation is a 437', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.request(StunMethod.refresh)), 437);
});

t.test('Refresh naming the other address family is a 443', async (t) => {
  const { c } = allocated();
  const response = c.request(StunMethod.refresh, (b) =>
    b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0])),
  );
  t.equal(errorCode(response), 443);
  const same = c.request(StunMethod.refresh, (b) =>
    b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, Buffer.from([1, 0, 0, 0])),
  );
  t.equal(errorCode(same), 0);
});

t.test('§9: a permission lasts 300 s and CreatePermission refreshes it', async (t) => {
  const { f, c, start } = allocated();
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER))), 0);
  t.equal(f.observer.lastGauges.permissions, 1);
  const relay = relayOf(f);
  f.clock.now = start + 299_999;
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('in time'), f.clock.now);
  t.equal(f.observer.relayedBytes['peer-to-client'], 7);
  f.clock.now = start + 300_000;
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('late'), f.clock.now);
  t.same(f.observer.drops, ['no-permission'], 'refused at exactly 300 s, before any sweep');
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.permissions, 0, 'swept');
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER))), 0);
  f.clock.now += 299_000;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.permissions, 1, 'the new permission runs from its refresh');
});

t.test('§12: a channel lasts 600 s; its permission must be refreshed meanwhile', async (t) => {
  const { f, c, start } = allocated({ maxLifetime: 3600 });
  c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 3600));
  const bind = () =>
    c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  t.equal(errorCode(bind()), 0);
  t.same(f.observer.lastGauges, { allocations: 1, permissions: 1, channels: 1, connections: 0 });
  const send = () =>
    f.core.handleClientPacket(c.ref, channelData(0x4001, Buffer.from('x')), 0, 5, f.clock.now);
  f.clock.now = start + 300_000;
  send();
  t.same(f.observer.drops, ['no-permission'], 'the channel outlives its permission');
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER))), 0);
  send();
  t.equal(f.effects.toPeers.length, 1);
  f.clock.now = start + 600_000;
  send();
  t.same(f.observer.drops, ['no-permission', 'unbound-channel'], 'the channel expired');
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.channels, 0);
  t.equal(errorCode(bind()), 0, 'and can be bound again');
});

t.test('§12: rebinding the same channel to the same peer refreshes both lifetimes', async (t) => {
  const { f, c, start } = allocated();
  c.request(StunMethod.refresh, (b) => lifetimeAttr(b, 3600));
  const bind = () =>
    c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  t.equal(errorCode(bind()), 0);
  f.clock.now = start + 500_000;
  t.equal(errorCode(bind()), 0);
  f.clock.now = start + 500_000 + 599_999;
  f.core.tick(f.clock.now);
  t.equal(f.observer.lastGauges.channels, 1, 'the channel runs from the rebind');
  t.equal(f.observer.lastGauges.permissions, 0, 'the permission (300 s) did not');
});

t.test('on TCP, closing the connection deletes its allocation', async (t) => {
  const f = fixture();
  const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 5000 }, 'tcp');
  f.core.clientConnected(c.ref);
  t.equal(f.observer.lastGauges.connections, 1);
  t.equal(errorCode(c.allocate()), 0);
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER))), 0);
  f.core.clientClosed(c.ref);
  t.same(f.observer.lastGauges, { allocations: 0, permissions: 0, channels: 0, connections: 0 });
  t.equal(f.effects.closedRelays.length, 1);
});

t.test('close() deletes every allocation', async (t) => {
  const { f } = allocated();
  f.core.close();
  t.equal(f.core.allocationCount, 0);
  t.equal(f.effects.closedRelays.length, 1);
});
