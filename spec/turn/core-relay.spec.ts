import t from 'tap';
import { decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';
import {
  channelAttr,
  channelData,
  decode,
  errorCode,
  fixture,
  peerAttr,
  relayOf,
  TestClient,
} from './core-fixture.js';

const PEER: TransportAddress = { family: 4, address: '93.184.216.34', port: 6000 };
const PEER2: TransportAddress = { family: 4, address: '93.184.216.35', port: 6001 };
const PEER6: TransportAddress = { family: 6, address: '2606:4700::1111', port: 7000 };

function allocated(options = {}, transport: 'udp' | 'tcp' = 'udp') {
  const f = fixture(options);
  const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 40000 }, transport);
  if (errorCode(c.allocate()) !== 0) throw new Error('allocate failed');
  return { f, c, relay: relayOf(f) };
}

function sendIndication(c: TestClient, peer: TransportAddress, data: Buffer) {
  return c.sendRaw(
    c.build(
      StunMethod.send,
      (b) => peerAttr(b, peer).add(AttributeType.DATA, data),
      { auth: false, fingerprint: false },
      StunClass.indication,
    ),
  );
}

t.test('CreatePermission with several peers installs one permission per IP', async (t) => {
  const { f, c, relay } = allocated();
  const response = c.request(StunMethod.createPermission, (b) => {
    peerAttr(b, PEER);
    peerAttr(b, PEER2);
    peerAttr(b, { ...PEER, port: 1 }); // same IP, other port: the same permission
  });
  t.equal(errorCode(response), 0);
  t.equal(f.observer.lastGauges.permissions, 2);
  f.core.handlePeerPacket(relay, PEER2.address, 9999, Buffer.from('any port'), f.clock.now);
  t.equal(f.effects.toClients.length, 4, 'permissions ignore the port (RFC 8656 §9)');
});

t.test('CreatePermission: 400 without XOR-PEER-ADDRESS, 443 for the other family', async (t) => {
  const { f, c } = allocated();
  t.equal(errorCode(c.request(StunMethod.createPermission)), 400);
  const mixed = c.request(StunMethod.createPermission, (b) => peerAttr(peerAttr(b, PEER), PEER6));
  t.equal(errorCode(mixed), 443);
  t.equal(f.observer.lastGauges.permissions, 0, 'all or nothing');
});

t.test('CreatePermission without an allocation is a 437', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER))), 437);
});

const forbidden: [string, TransportAddress][] = [
  ['loopback', { family: 4, address: '127.0.0.1', port: 80 }],
  ['private 10/8', { family: 4, address: '10.1.2.3', port: 80 }],
  ['link-local metadata', { family: 4, address: '169.254.169.254', port: 80 }],
  ['0.0.0.0', { family: 4, address: '0.0.0.0', port: 80 }],
];

for (const [name, peer] of forbidden) {
  t.test(`403 for a forbidden peer: ${name}`, async (t) => {
    const { f, c } = allocated();
    t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, peer))), 403);
    const bind = c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, peer), 0x4000));
    t.equal(errorCode(bind), 403);
    t.equal(f.observer.lastGauges.permissions, 0);
  });
}

t.test('403 for ::ffff:127.0.0.1 and ::1 on an IPv6 allocation', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate((b) =>
    b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0])),
  );
  t.equal(errorCode(response), 0);
  for (const address of ['::ffff:127.0.0.1', '::1', 'fd00::1']) {
    const peer: TransportAddress = { family: 6, address, port: 80 };
    t.equal(
      errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, peer))),
      403,
      address,
    );
  }
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER6))), 0);
});

t.test('allowLoopbackPeers and allowPeers open what the defaults close', async (t) => {
  const { c } = allocated({ allowLoopbackPeers: true, allowPeers: ['10.0.0.0/8'] });
  const loop: TransportAddress = { family: 4, address: '127.0.0.1', port: 9 };
  const lan: TransportAddress = { family: 4, address: '10.1.2.3', port: 9 };
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, loop))), 0);
  t.equal(errorCode(c.request(StunMethod.createPermission, (b) => peerAttr(b, lan))), 0);
  const denied = allocated({ denyPeers: ['93.184.216.0/24'] });
  const response = denied.c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER));
  t.equal(errorCode(response), 403);
});

t.test('Send indication reaches the peer only with a permission', async (t) => {
  const { f, c, relay } = allocated();
  t.same(sendIndication(c, PEER, Buffer.from('too early')), [], 'no response to indications');
  t.same(f.observer.drops, ['no-permission']);
  c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER));
  sendIndication(c, PEER, Buffer.from('hello'));
  t.equal(f.effects.toPeers.length, 1);
  t.same(f.effects.toPeers[0], { relay, peer: PEER, data: Buffer.from('hello') });
  t.equal(f.observer.relayedBytes['client-to-peer'], 5);
});

t.test('Send indication without an allocation or without DATA is dropped', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  sendIndication(c, PEER, Buffer.from('x'));
  t.same(f.observer.drops, ['no-allocation']);
  const { f: f2, c: c2 } = allocated();
  c2.sendRaw(
    c2.build(StunMethod.send, (b) => peerAttr(b, PEER), { auth: false }, StunClass.indication),
  );
  t.same(f2.observer.drops, ['malformed-send']);
});

t.test('a peer datagram without a channel reaches the client as a Data indication', async (t) => {
  const { f, c, relay } = allocated();
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('unsolicited'), f.clock.now);
  t.same(f.observer.drops, ['no-permission'], 'dropped without permission');
  c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER));
  const payload = Buffer.from('hello client');
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, payload, f.clock.now);
  const m = decode(f.effects.toClients.at(-1)!.bytes);
  t.equal(m.messageClass, StunClass.indication);
  t.equal(m.method, StunMethod.data);
  const peer = m.get(AttributeType.XOR_PEER_ADDRESS);
  t.same(peer && decodeXorAddress(m, peer), PEER);
  t.same(m.value(AttributeType.DATA), payload);
  t.equal(f.observer.relayedBytes['peer-to-client'], payload.length);
});

t.test('Data indications for IPv6 peers carry the XOR-ed IPv6 address', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.allocate((b) => b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0])));
  c.request(StunMethod.createPermission, (b) => peerAttr(b, PEER6));
  for (let i = 0; i < 3; i++) {
    f.core.handlePeerPacket(relayOf(f), PEER6.address, PEER6.port, Buffer.alloc(i + 1), 0);
    const m = decode(f.effects.toClients.at(-1)!.bytes);
    const peer = m.get(AttributeType.XOR_PEER_ADDRESS);
    t.same(peer && decodeXorAddress(m, peer), PEER6, `message ${i} (its own transaction ID)`);
    t.equal(m.value(AttributeType.DATA)?.length, i + 1, 'padded correctly');
  }
});

t.test('ChannelBind then ChannelData both ways', async (t) => {
  const { f, c, relay } = allocated();
  const bind = c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4abc));
  t.equal(errorCode(bind), 0);
  const out = channelData(0x4abc, Buffer.from('to peer'));
  f.core.handleClientPacket(c.ref, out, 0, out.length, f.clock.now);
  t.same(f.effects.toPeers, [{ relay, peer: PEER, data: Buffer.from('to peer') }]);
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('to client'), f.clock.now);
  t.same(f.effects.toClients.at(-1)!.bytes, channelData(0x4abc, Buffer.from('to client')));
  f.core.handlePeerPacket(relay, PEER.address, PEER.port + 1, Buffer.from('x'), f.clock.now);
  t.equal(decode(f.effects.toClients.at(-1)!.bytes).method, StunMethod.data, 'other port: Data');
});

t.test('ChannelData in the middle of a buffer (stream framing) is read by offset', async (t) => {
  const { f, c } = allocated();
  c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  const frame = channelData(0x4001, Buffer.from('abc'));
  const chunk = Buffer.concat([Buffer.from('junk'), frame, Buffer.from([0]), Buffer.from('more')]);
  f.core.handleClientPacket(c.ref, chunk, 4, 8, f.clock.now);
  t.same(f.effects.toPeers[0].data, Buffer.from('abc'));
});

t.test('ChannelData: unbound channel, short frame and no allocation are dropped', async (t) => {
  const { f, c } = allocated();
  const unbound = channelData(0x4002, Buffer.from('x'));
  f.core.handleClientPacket(c.ref, unbound, 0, unbound.length, f.clock.now);
  const short = channelData(0x4002, Buffer.from('xyz')).subarray(0, 5);
  f.core.handleClientPacket(c.ref, short, 0, short.length, f.clock.now);
  const stranger = new TestClient(f, { family: 4, address: '198.51.100.200', port: 1 });
  f.core.handleClientPacket(stranger.ref, unbound, 0, unbound.length, f.clock.now);
  t.same(f.observer.drops, ['unbound-channel', 'truncated-channel-data', 'no-allocation']);
  t.equal(f.effects.toPeers.length, 0);
});

t.test('on TCP, ChannelData to the client is padded to 4 bytes', async (t) => {
  const { f, c, relay } = allocated({}, 'tcp');
  c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('12345'), f.clock.now);
  const bytes = f.effects.toClients.at(-1)!.bytes;
  t.equal(bytes.length, 12, '4 + 5 + 3 padding');
  t.equal(bytes.readUInt16BE(2), 5, 'the length field counts the data only');
});

t.test('ChannelBind: channel number range and §12 rebinding rules', async (t) => {
  const { c } = allocated();
  const bind = (peer: TransportAddress, channel: number) =>
    errorCode(c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, peer), channel)));
  t.equal(bind(PEER, 0x3fff), 400, 'below 0x4000');
  t.equal(bind(PEER, 0x5000), 400, 'above 0x4FFF');
  t.equal(bind(PEER, 0x4000), 0);
  t.equal(bind(PEER, 0x4000), 0, 'same channel, same peer: refresh');
  t.equal(bind(PEER2, 0x4000), 400, 'channel bound to another peer');
  t.equal(bind(PEER, 0x4001), 400, 'peer bound to another channel');
  t.equal(bind({ ...PEER, port: PEER.port + 1 }, 0x4001), 0, 'same IP, other port: ok');
  t.equal(bind(PEER6, 0x4002), 443, 'other family');
  t.equal(errorCode(c.request(StunMethod.channelBind, (b) => peerAttr(b, PEER))), 400, 'no number');
  t.equal(
    errorCode(c.request(StunMethod.channelBind, (b) => channelAttr(b, 0x4003))),
    400,
    'no peer',
  );
});

t.test('ChannelBind installs the permission for the peer', async (t) => {
  const { f, c } = allocated();
  c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  sendIndication(c, { ...PEER, port: 1234 }, Buffer.from('via send'));
  t.equal(f.effects.toPeers.length, 1);
  t.same(f.observer.lastGauges, { allocations: 1, permissions: 1, channels: 1, connections: 0 });
});

t.test('maxBps: an allocation over its bandwidth has packets dropped', async (t) => {
  // 100 kbit/s; the bucket's smallest burst is 128 KiB, so ~131 KB pass at once.
  const { f, c, relay } = allocated({ maxBps: 100_000 });
  c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  const frame = channelData(0x4001, Buffer.alloc(1000));
  for (let i = 0; i < 140; i++)
    f.core.handleClientPacket(c.ref, frame, 0, frame.length, f.clock.now);
  const passed = f.effects.toPeers.length;
  t.ok(passed >= 130 && passed < 140, `${passed} of 140 passed`);
  t.ok(f.observer.drops.every((d) => d === 'allocation-bandwidth'));
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.alloc(1000), f.clock.now);
  t.equal(f.observer.drops.at(-1), 'allocation-bandwidth', 'both directions share the quota');
  f.clock.now += 1000; // 100 kbit refilled: 12 more packets
  f.core.handleClientPacket(c.ref, frame, 0, frame.length, f.clock.now);
  t.equal(f.effects.toPeers.length, passed + 1);
});

t.test('bpsCapacity: the server-wide bucket drops once all allocations exceed it', async (t) => {
  const { f, c } = allocated({ bpsCapacity: 100_000 });
  c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, PEER), 0x4001));
  const frame = channelData(0x4001, Buffer.alloc(1000));
  for (let i = 0; i < 140; i++)
    f.core.handleClientPacket(c.ref, frame, 0, frame.length, f.clock.now);
  t.ok(f.observer.drops.length > 0);
  t.ok(f.observer.drops.every((d) => d === 'server-bandwidth'));
});

t.test('ChannelBind with legacyChannelNumbers accepts RFC 5766 numbers up to 0x7FFF', async (t) => {
  const { f, c, relay } = allocated({ legacyChannelNumbers: true });
  const bind = (peer: TransportAddress, channel: number) =>
    errorCode(c.request(StunMethod.channelBind, (b) => channelAttr(peerAttr(b, peer), channel)));
  t.equal(bind(PEER, 0x6e94), 0, '0x6E94, as turnutils_uclient picks, is bound');
  t.equal(bind(PEER2, 0x8000), 400, 'above 0x7FFF is still refused');
  const out = channelData(0x6e94, Buffer.from('legacy'));
  f.core.handleClientPacket(c.ref, out, 0, out.length, f.clock.now);
  t.same(f.effects.toPeers.at(-1)?.data, Buffer.from('legacy'), 'client to peer on 0x6E94');
  f.core.handlePeerPacket(relay, PEER.address, PEER.port, Buffer.from('back'), f.clock.now);
  t.same(f.effects.toClients.at(-1)!.bytes, channelData(0x6e94, Buffer.from('back')));
});

t.test(
  'without legacyChannelNumbers, ChannelData above 0x4FFF is an unbound-channel drop',
  async (t) => {
    const { f, c } = allocated();
    const frame = channelData(0x6e94, Buffer.from('x'));
    f.core.handleClientPacket(c.ref, frame, 0, frame.length, f.clock.now);
    t.same(f.observer.drops, ['unbound-channel']);
  },
);
