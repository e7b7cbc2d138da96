import t from 'tap';
import { decodeAddressErrorCode } from '../../lib/stun/attributes/address-error-code.js';
import { AttributeType, StunMethod } from '../../lib/stun/constants.js';
import {
  errorCode,
  fixture,
  lastSent,
  lifetimeAttr,
  RELAY_V4,
  RELAY_V6,
  TestClient,
  uint32,
  xorAddress,
} from './core-fixture.js';

const family = (f: 4 | 6) => Buffer.from([f === 4 ? 1 : 2, 0, 0, 0]);

t.test('Allocate: relayed and mapped addresses, default lifetime', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate();
  t.equal(errorCode(response), 0);
  t.same(xorAddress(response, AttributeType.XOR_RELAYED_ADDRESS), {
    family: 4,
    address: RELAY_V4,
    port: 50000,
  });
  t.same(xorAddress(response, AttributeType.XOR_MAPPED_ADDRESS), c.ref.remote);
  t.equal(uint32(response, AttributeType.LIFETIME), 600);
  t.equal(response.value(AttributeType.SOFTWARE)?.toString(), 'rtcd');
  t.equal(f.core.allocationCount, 1);
  t.equal(f.observer.lastGauges.allocations, 1);
  t.same(f.observer.responses, ['allocate 401', 'allocate 0']);
});

t.test('SOFTWARE can be switched off', async (t) => {
  const f = fixture({ software: '' });
  const c = new TestClient(f);
  t.notOk(c.allocate().has(AttributeType.SOFTWARE));
});

t.test('LIFETIME is clamped to [defaultLifetime, maxLifetime]', async (t) => {
  const f = fixture({ defaultLifetime: 600, maxLifetime: 3600 });
  const cases: [number, number][] = [
    [30, 600],
    [1200, 1200],
    [86400, 3600],
  ];
  for (const [i, [asked, granted]] of cases.entries()) {
    const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 1000 + i });
    const response = c.allocate((b) => lifetimeAttr(b, asked));
    t.equal(uint32(response, AttributeType.LIFETIME), granted, `${asked} → ${granted}`);
  }
});

t.test('REQUESTED-TRANSPORT: missing is 400, TCP is 442', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.request(StunMethod.allocate)), 400);
  const tcp = c.request(StunMethod.allocate, (b) =>
    b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([6, 0, 0, 0])),
  );
  t.equal(errorCode(tcp), 442);
  t.equal(f.core.allocationCount, 0);
});

t.test('REQUESTED-ADDRESS-FAMILY IPv6 gets an IPv6 relay', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate((b) => b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, family(6)));
  t.equal(errorCode(response), 0);
  t.same(xorAddress(response, AttributeType.XOR_RELAYED_ADDRESS)?.address, RELAY_V6);
});

t.test('440 for an unknown family and for a family without relay address', async (t) => {
  const f = fixture({ relayIps: [RELAY_V4] });
  const c = new TestClient(f);
  const v6 = c.allocate((b) => b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, family(6)));
  t.equal(errorCode(v6), 440);
  const odd = c.allocate((b) =>
    b.add(AttributeType.REQUESTED_ADDRESS_FAMILY, Buffer.from([3, 0, 0, 0])),
  );
  t.equal(errorCode(odd), 440);
});

t.test('440 when the adapter cannot bind that family', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const sent = c.startAllocate();
  t.same(sent, [], 'no answer before the relay socket is bound');
  f.openRelays('family-unavailable');
  t.equal(f.effects.toClients.length, 2);
  t.equal(f.core.allocationCount, 0);
  t.same(f.effects.releasedClients, [c.ref]);
});

t.test('ADDITIONAL-ADDRESS-FAMILY: IPv4 relay plus ADDRESS-ERROR-CODE 440 for IPv6', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate((b) => b.add(AttributeType.ADDITIONAL_ADDRESS_FAMILY, family(6)));
  t.equal(errorCode(response), 0);
  t.equal(xorAddress(response, AttributeType.XOR_RELAYED_ADDRESS)?.family, 4);
  const a = response.get(AttributeType.ADDRESS_ERROR_CODE);
  t.same(a && decodeAddressErrorCode(response, a), {
    family: 6,
    code: 440,
    reason: 'Address Family not Supported',
  });
  const both = new TestClient(f, { family: 4, address: '198.51.100.7', port: 2 });
  const bad = both.allocate((b) =>
    b
      .add(AttributeType.REQUESTED_ADDRESS_FAMILY, family(4))
      .add(AttributeType.ADDITIONAL_ADDRESS_FAMILY, family(6)),
  );
  t.equal(errorCode(bad), 400, 'both family attributes');
  const v4 = both.allocate((b) => b.add(AttributeType.ADDITIONAL_ADDRESS_FAMILY, family(4)));
  t.equal(errorCode(v4), 400, 'ADDITIONAL-ADDRESS-FAMILY can only be IPv6');
});

t.test('DONT-FRAGMENT is accepted', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate((b) => b.add(AttributeType.DONT_FRAGMENT, Buffer.alloc(0)));
  t.equal(errorCode(response), 0);
});

t.test('EVEN-PORT with R reserves the next port behind a RESERVATION-TOKEN', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const response = c.allocate((b) => b.add(AttributeType.EVEN_PORT, Buffer.from([0x80])));
  t.equal(errorCode(response), 0);
  t.equal(xorAddress(response, AttributeType.XOR_RELAYED_ADDRESS)?.port, 50000);
  const token = response.value(AttributeType.RESERVATION_TOKEN);
  t.equal(token?.length, 8);
  const other = new TestClient(f, { family: 4, address: '198.51.100.50', port: 7 });
  const second = other.allocate((b) => b.add(AttributeType.RESERVATION_TOKEN, token!));
  t.equal(errorCode(second), 0);
  t.same(xorAddress(second, AttributeType.XOR_RELAYED_ADDRESS), {
    family: 4,
    address: RELAY_V4,
    port: 50001,
  });
  t.equal(f.effects.relayRequests.length, 0, 'no new socket for a reservation');
  const third = new TestClient(f, { family: 4, address: '198.51.100.51', port: 7 });
  t.equal(errorCode(third.allocate((b) => b.add(AttributeType.RESERVATION_TOKEN, token!))), 508);
});

t.test('EVEN-PORT without R asks for an even port and no reservation', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.startAllocate((b) => b.add(AttributeType.EVEN_PORT, Buffer.from([0])));
  t.match(f.effects.relayRequests, [{ evenPort: true, reserveNext: false, family: 4 }]);
  f.openRelays();
  t.notOk(lastSent(f).has(AttributeType.RESERVATION_TOKEN));
});

t.test('reserved ports expire after 30 s and their socket is closed', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const token = c
    .allocate((b) => b.add(AttributeType.EVEN_PORT, Buffer.from([0x80])))
    .value(AttributeType.RESERVATION_TOKEN)!;
  f.clock.now += 29_999;
  f.core.tick(f.clock.now);
  t.equal(f.effects.closedRelays.length, 0);
  f.clock.now += 1;
  f.core.tick(f.clock.now);
  t.equal(f.effects.closedRelays.length, 1);
  t.equal(f.effects.closedRelays[0].address.port, 50001);
  const late = new TestClient(f, { family: 4, address: '198.51.100.50', port: 7 });
  t.equal(errorCode(late.allocate((b) => b.add(AttributeType.RESERVATION_TOKEN, token))), 508);
});

t.test('RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY is a 400', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  const token = Buffer.alloc(8, 1);
  const withEven = c.allocate((b) =>
    b.add(AttributeType.RESERVATION_TOKEN, token).add(AttributeType.EVEN_PORT, Buffer.from([0])),
  );
  t.equal(errorCode(withEven), 400);
  const withFamily = c.allocate((b) =>
    b
      .add(AttributeType.RESERVATION_TOKEN, token)
      .add(AttributeType.REQUESTED_ADDRESS_FAMILY, family(4)),
  );
  t.equal(errorCode(withFamily), 400);
  t.equal(errorCode(c.allocate((b) => b.add(AttributeType.RESERVATION_TOKEN, token))), 508);
});

t.test('437 for a second Allocate on the same 5-tuple', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.allocate()), 0);
  t.equal(errorCode(c.allocate()), 437);
  t.equal(f.core.allocationCount, 1);
});

t.test('a retransmitted Allocate gets the same success response again', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.prime();
  const transactionId = Buffer.alloc(12, 7);
  const request = c.build(
    StunMethod.allocate,
    (b) => b.add(AttributeType.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])),
    { transactionId },
  );
  t.same(c.sendRaw(request, false), [], 'waiting for the socket');
  t.same(c.sendRaw(request, false), [], 'a retransmission while pending is dropped');
  t.same(f.observer.drops, ['retransmission-pending']);
  t.equal(f.effects.relayRequests.length, 1, 'one socket asked for');
  f.openRelays();
  const first = f.effects.toClients.at(-1)!.bytes;
  const [again] = c.sendRaw(request);
  t.same(again.buffer, first, 'byte for byte');
  t.equal(f.effects.relayRequests.length, 0);
  t.equal(f.core.allocationCount, 1);
});

t.test('486 beyond maxAllocationsPerUser, 508 beyond maxAllocations', async (t) => {
  const f = fixture({ maxAllocationsPerUser: 2, maxAllocations: 3 });
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 3000 + i });
    codes.push(errorCode(c.allocate()));
  }
  t.same(codes, [0, 0, 486]);
  const bob = new TestClient(f, { family: 4, address: '198.51.100.8', port: 1 });
  bob.username = 'bob';
  bob.password = 'bob-pw';
  t.equal(errorCode(bob.allocate()), 0);
  const bob2 = new TestClient(f, { family: 4, address: '198.51.100.8', port: 2 });
  bob2.username = 'bob';
  bob2.password = 'bob-pw';
  t.equal(errorCode(bob2.allocate()), 508);
});

t.test('REST users share one quota per user id whatever the expiry', async (t) => {
  const f = fixture({ maxAllocationsPerUser: 1 });
  const { restPassword } = await import('../../lib/turn/credentials.js');
  const now = Math.floor(f.clock.now / 1000);
  const codes: number[] = [];
  for (const [i, expiry] of [now + 100, now + 200].entries()) {
    const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 4000 + i });
    c.username = `${expiry}:dave`;
    c.password = restPassword('rest-secret', c.username);
    codes.push(errorCode(c.allocate()));
  }
  t.same(codes, [0, 486]);
});

t.test('508 when the relay port range is exhausted', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  c.startAllocate();
  f.openRelays('ports-exhausted');
  t.equal(errorCode(lastSent(f)), 508);
  t.equal(f.core.allocationCount, 0);
  t.equal(f.observer.lastGauges.allocations, 0);
});

t.test('while draining, Allocate is refused with 508 and Refresh still works', async (t) => {
  const f = fixture();
  const c = new TestClient(f);
  t.equal(errorCode(c.allocate()), 0);
  f.core.drain();
  const other = new TestClient(f, { family: 4, address: '198.51.100.99', port: 1 });
  t.equal(errorCode(other.allocate()), 508);
  t.equal(errorCode(c.request(StunMethod.refresh)), 0);
});

t.test('a relay bound after its TCP client left is closed at once', async (t) => {
  const f = fixture();
  const c = new TestClient(f, { family: 4, address: '198.51.100.7', port: 5000 }, 'tcp');
  f.core.clientConnected(c.ref);
  c.startAllocate();
  f.core.clientClosed(c.ref);
  f.openRelays();
  t.equal(f.effects.closedRelays.length, 1);
  t.equal(f.core.allocationCount, 0);
  t.equal(f.observer.lastGauges.connections, 0);
});
