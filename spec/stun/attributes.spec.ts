import t from 'tap';
import {
  decodeAddress,
  decodeXorAddress,
  encodeAddress,
  encodeXorAddress,
} from '../../lib/stun/attributes/address.js';
import {
  decodeAddressErrorCode,
  encodeAddressErrorCode,
} from '../../lib/stun/attributes/address-error-code.js';
import {
  decodeAddressFamily,
  encodeAddressFamily,
} from '../../lib/stun/attributes/address-family.js';
import {
  decodeAlternateDomain,
  decodeAlternateServer,
  encodeAlternateDomain,
  encodeAlternateServer,
} from '../../lib/stun/attributes/alternate.js';
import {
  decodeChannelNumber,
  encodeChannelNumber,
} from '../../lib/stun/attributes/channel-number.js';
import { decodeData } from '../../lib/stun/attributes/data.js';
import { decodeErrorCode, encodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeEvenPort, encodeEvenPort } from '../../lib/stun/attributes/even-port.js';
import { decodeFlag, EMPTY_VALUE } from '../../lib/stun/attributes/flag.js';
import {
  decodeTieBreaker,
  encodePriority,
  encodeTieBreaker,
} from '../../lib/stun/attributes/ice.js';
import { decodeIcmp, encodeIcmp } from '../../lib/stun/attributes/icmp.js';
import {
  decodePasswordAlgorithm,
  decodePasswordAlgorithms,
  encodePasswordAlgorithms,
  passwordAlgorithm,
} from '../../lib/stun/attributes/password-algorithms.js';
import {
  attributeDecoders,
  attributeName,
  describeAttributes,
} from '../../lib/stun/attributes/registry.js';
import {
  decodeRequestedTransport,
  encodeRequestedTransport,
  TransportProtocol,
} from '../../lib/stun/attributes/requested-transport.js';
import {
  decodeReservationToken,
  encodeReservationToken,
} from '../../lib/stun/attributes/reservation-token.js';
import { decodeString, StringLimit } from '../../lib/stun/attributes/string.js';
import { decodeLifetime, decodeUint32, encodeLifetime } from '../../lib/stun/attributes/uint32.js';
import {
  decodeUnknownAttributes,
  encodeUnknownAttributes,
} from '../../lib/stun/attributes/unknown-attributes.js';
import { decodeUserhash, userhash } from '../../lib/stun/attributes/userhash.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import {
  AttributeType,
  PasswordAlgorithm,
  StunClass,
  StunMethod,
} from '../../lib/stun/constants.js';
import { decodeStunMessage, type StunAttribute, type StunMessage } from '../../lib/stun/message.js';
import type { TransportAddress } from '../../lib/stun/transport-address.js';

const T = AttributeType;
const TXID = Buffer.from('0102030405060708090a0b0c', 'hex');

/** A message holding one attribute of `type` with `value`, decoded; and that attribute. */
function one(type: number, value: Uint8Array): [StunMessage, StunAttribute] {
  const buf = new StunMessageBuilder(StunClass.request, StunMethod.allocate, TXID)
    .add(type, value)
    .toBuffer();
  const r = decodeStunMessage(buf);
  if (!r.ok) throw new Error(r.reason);
  return [r.message, r.message.get(type)!];
}

function decodeWith<V>(
  decode: (m: StunMessage, a: StunAttribute) => V,
  type: number,
  value: Uint8Array,
): V {
  const [m, a] = one(type, value);
  return decode(m, a);
}

const addresses: TransportAddress[] = [
  { family: 4, address: '192.0.2.1', port: 32853 },
  { family: 4, address: '0.0.0.0', port: 0 },
  { family: 4, address: '255.255.255.255', port: 65535 },
  { family: 6, address: '2001:db8::1', port: 3478 },
  { family: 6, address: '::', port: 1 },
  { family: 6, address: '::ffff:10.0.0.1', port: 50000 },
  { family: 6, address: 'fe80::1:2:3:4', port: 443 },
];

t.test('MAPPED-ADDRESS / ALTERNATE-SERVER round-trip', async (t) => {
  for (const a of addresses) {
    t.same(decodeWith(decodeAddress, T.MAPPED_ADDRESS, encodeAddress(a)), a, a.address);
    t.same(decodeWith(decodeAlternateServer, T.ALTERNATE_SERVER, encodeAlternateServer(a)), a);
    const built = new StunMessageBuilder(0, 1, TXID).addAddress(T.MAPPED_ADDRESS, a).toBuffer();
    const r = decodeStunMessage(built);
    t.ok(r.ok && decodeAddress(r.message, r.message.get(T.MAPPED_ADDRESS)!)?.port === a.port);
  }
});

t.test('XOR-MAPPED/-PEER/-RELAYED-ADDRESS round-trip', async (t) => {
  for (const type of [T.XOR_MAPPED_ADDRESS, T.XOR_PEER_ADDRESS, T.XOR_RELAYED_ADDRESS]) {
    for (const a of addresses) {
      t.same(decodeWith(decodeXorAddress, type, encodeXorAddress(a, TXID)), a, a.address);
      const built = new StunMessageBuilder(2, 3, TXID).addXorAddress(type, a).toBuffer();
      const r = decodeStunMessage(built);
      t.ok(r.ok);
      if (r.ok) t.same(decodeXorAddress(r.message, r.message.get(type)!), a);
    }
  }
  t.same(
    encodeXorAddress(addresses[3]!, TXID),
    (() => {
      const v = encodeAddress(addresses[3]!);
      const key = Buffer.concat([Buffer.from('2112a442', 'hex'), TXID]);
      for (let i = 0; i < 16; i++) v[4 + i]! ^= key[i]!;
      v.writeUInt16BE(3478 ^ 0x2112, 2);
      return v;
    })(),
    'IPv6 XOR uses cookie + transaction ID',
  );
});

t.test('malformed addresses decode to undefined', async (t) => {
  const v4 = encodeAddress(addresses[0]!);
  const v6 = encodeAddress(addresses[3]!);
  const bad: [string, Uint8Array][] = [
    ['family 0', Buffer.from([0, 0, ...v4.subarray(2)])],
    ['family 3', Buffer.from([0, 3, ...v4.subarray(2)])],
    ['IPv4 family with IPv6 length', Buffer.from([0, 1, ...v6.subarray(2)])],
    ['IPv6 family with IPv4 length', Buffer.from([0, 2, ...v4.subarray(2)])],
    ['too short', v4.subarray(0, 7)],
    ['too long', Buffer.concat([v4, Buffer.alloc(4)])],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [name, value] of bad) {
    t.equal(decodeWith(decodeAddress, T.MAPPED_ADDRESS, value), undefined, name);
    t.equal(decodeWith(decodeXorAddress, T.XOR_MAPPED_ADDRESS, value), undefined, name);
  }
  const b = new StunMessageBuilder(0, 1, TXID);
  t.throws(() => b.addAddress(T.MAPPED_ADDRESS, { family: 4, address: '::1', port: 1 }), TypeError);
  t.throws(() => b.addXorAddress(T.XOR_PEER_ADDRESS, { family: 6, address: '1.2.3.4', port: 1 }));
  t.throws(() => b.addAddress(T.MAPPED_ADDRESS, { family: 4, address: 'example.org', port: 1 }));
  t.throws(() => b.addAddress(T.MAPPED_ADDRESS, { family: 4, address: '1.2.3.4', port: 65536 }));
  t.equal(b.length, 20, 'a rejected address leaves nothing behind');
});

t.test('string attributes', async (t) => {
  for (const type of [T.USERNAME, T.REALM, T.NONCE, T.SOFTWARE]) {
    const built = new StunMessageBuilder(0, 1, TXID).addString(type, 'héllo wörld').toBuffer();
    const r = decodeStunMessage(built);
    t.ok(r.ok && decodeString(r.message, r.message.get(type)!, 763) === 'héllo wörld');
  }
  t.equal(
    decodeWith((m, a) => decodeString(m, a, 763), T.REALM, Buffer.alloc(0)),
    '',
  );
  t.equal(
    decodeWith((m, a) => decodeString(m, a, 4), T.USERNAME, Buffer.from('abcde')),
    undefined,
    'over the byte limit',
  );
  t.equal(
    decodeWith((m, a) => decodeString(m, a, 100), T.USERNAME, Buffer.from([0x61, 0xc3, 0x28])),
    undefined,
    'invalid UTF-8',
  );
  t.equal(
    decodeWith((m, a) => decodeString(m, a, StringLimit.USERNAME), T.USERNAME, Buffer.alloc(513)),
    undefined,
  );
  t.equal(
    decodeWith(
      decodeAlternateDomain,
      T.ALTERNATE_DOMAIN,
      encodeAlternateDomain('turn.example.org'),
    ),
    'turn.example.org',
  );
  t.equal(decodeWith(decodeAlternateDomain, T.ALTERNATE_DOMAIN, Buffer.alloc(0)), undefined);
  t.equal(
    decodeWith(decodeAlternateDomain, T.ALTERNATE_DOMAIN, Buffer.alloc(256, 0x61)),
    undefined,
  );
  t.throws(() => encodeAlternateDomain(''), TypeError);
});

t.test('ERROR-CODE', async (t) => {
  for (const code of [300, 400, 401, 420, 438, 487, 500, 508, 699]) {
    const e = decodeWith(decodeErrorCode, T.ERROR_CODE, encodeErrorCode(code));
    t.equal(e?.code, code);
  }
  t.same(decodeWith(decodeErrorCode, T.ERROR_CODE, encodeErrorCode(401)), {
    code: 401,
    reason: 'Unauthenticated',
  });
  t.same(decodeWith(decodeErrorCode, T.ERROR_CODE, encodeErrorCode(437, 'Nope')), {
    code: 437,
    reason: 'Nope',
  });
  const built = new StunMessageBuilder(3, 3, TXID).addErrorCode(438).toBuffer();
  const r = decodeStunMessage(built);
  t.ok(r.ok);
  if (r.ok) {
    t.same(decodeErrorCode(r.message, r.message.get(T.ERROR_CODE)!), {
      code: 438,
      reason: 'Stale Nonce',
    });
  }
  for (const [name, value] of [
    ['short', Buffer.from([0, 0, 4])],
    ['class 2', Buffer.from([0, 0, 2, 0])],
    ['class 7', Buffer.from([0, 0, 7, 0])],
    ['number 100', Buffer.from([0, 0, 4, 100])],
  ] as const) {
    t.equal(decodeWith(decodeErrorCode, T.ERROR_CODE, value), undefined, name);
  }
  for (const code of [299, 700, 400.5, -1]) {
    t.throws(() => encodeErrorCode(code), TypeError);
    t.throws(() => new StunMessageBuilder(3, 1, TXID).addErrorCode(code), TypeError);
  }
});

t.test('UNKNOWN-ATTRIBUTES', async (t) => {
  for (const types of [[], [0x0003], [0x7777, 0x0010, 0x0011]]) {
    t.same(
      decodeWith(decodeUnknownAttributes, T.UNKNOWN_ATTRIBUTES, encodeUnknownAttributes(types)),
      types,
    );
    const r = decodeStunMessage(
      new StunMessageBuilder(3, 1, TXID).addUnknownAttributes(types).toBuffer(),
    );
    t.ok(r.ok && r.message.attributes.length === 1);
    if (r.ok) t.same(decodeUnknownAttributes(r.message, r.message.attributes[0]!), types);
  }
  t.equal(decodeWith(decodeUnknownAttributes, T.UNKNOWN_ATTRIBUTES, Buffer.alloc(3)), undefined);
  t.throws(() => encodeUnknownAttributes([0x10000]), TypeError);
});

t.test('32-bit values: LIFETIME, PRIORITY, and the builder addUint32', async (t) => {
  for (const v of [0, 1, 600, 0x6e0001ff, 0xffffffff]) {
    t.equal(decodeWith(decodeLifetime, T.LIFETIME, encodeLifetime(v)), v);
    t.equal(decodeWith(decodeUint32, T.PRIORITY, encodePriority(v)), v);
  }
  t.equal(decodeWith(decodeLifetime, T.LIFETIME, Buffer.alloc(3)), undefined);
  t.equal(decodeWith(decodeLifetime, T.LIFETIME, Buffer.alloc(8)), undefined);
  t.throws(() => encodeLifetime(-1), TypeError);
  t.throws(() => encodeLifetime(2 ** 32), TypeError);
  t.throws(() => new StunMessageBuilder(0, 1, TXID).addUint32(T.LIFETIME, 1.5), TypeError);
});

t.test('ICE-CONTROLLED / ICE-CONTROLLING tie-breaker is a 64-bit bigint', async (t) => {
  for (const v of [0n, 1n, 0x932ff9b151263b36n, (1n << 64n) - 1n]) {
    t.equal(decodeWith(decodeTieBreaker, T.ICE_CONTROLLED, encodeTieBreaker(v)), v);
    t.equal(decodeWith(decodeTieBreaker, T.ICE_CONTROLLING, encodeTieBreaker(v)), v);
  }
  t.equal(decodeWith(decodeTieBreaker, T.ICE_CONTROLLED, Buffer.alloc(4)), undefined);
  t.throws(() => encodeTieBreaker(-1n), TypeError);
  t.throws(() => encodeTieBreaker(1n << 64n), TypeError);
});

t.test('flags: USE-CANDIDATE, DONT-FRAGMENT', async (t) => {
  for (const type of [T.USE_CANDIDATE, T.DONT_FRAGMENT]) {
    t.equal(decodeWith(decodeFlag, type, EMPTY_VALUE), true);
    t.equal(decodeWith(decodeFlag, type, Buffer.alloc(1)), undefined);
  }
});

t.test('CHANNEL-NUMBER', async (t) => {
  for (const c of [0x4000, 0x4abc, 0x4fff, 0x0001]) {
    t.equal(decodeWith(decodeChannelNumber, T.CHANNEL_NUMBER, encodeChannelNumber(c)), c);
  }
  t.same(encodeChannelNumber(0x4001), Buffer.from([0x40, 0x01, 0, 0]), 'RFFU bytes are zero');
  t.equal(decodeWith(decodeChannelNumber, T.CHANNEL_NUMBER, Buffer.alloc(2)), undefined);
  t.throws(() => encodeChannelNumber(0x10000), TypeError);
});

t.test('REQUESTED-TRANSPORT', async (t) => {
  t.equal(
    decodeWith(decodeRequestedTransport, T.REQUESTED_TRANSPORT, encodeRequestedTransport(17)),
    TransportProtocol.UDP,
  );
  t.same(encodeRequestedTransport(TransportProtocol.TCP), Buffer.from([6, 0, 0, 0]));
  t.equal(
    decodeWith(decodeRequestedTransport, T.REQUESTED_TRANSPORT, Buffer.from([17])),
    undefined,
  );
  t.throws(() => encodeRequestedTransport(256), TypeError);
});

t.test('REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY', async (t) => {
  for (const type of [T.REQUESTED_ADDRESS_FAMILY, T.ADDITIONAL_ADDRESS_FAMILY]) {
    t.equal(decodeWith(decodeAddressFamily, type, encodeAddressFamily(4)), 4);
    t.equal(decodeWith(decodeAddressFamily, type, encodeAddressFamily(6)), 6);
    t.equal(decodeWith(decodeAddressFamily, type, Buffer.from([3, 0, 0, 0])), undefined);
    t.equal(decodeWith(decodeAddressFamily, type, Buffer.from([0, 0, 0, 0])), undefined);
    t.equal(decodeWith(decodeAddressFamily, type, Buffer.from([1])), undefined);
  }
  t.same(encodeAddressFamily(6), Buffer.from([2, 0, 0, 0]));
  t.throws(() => encodeAddressFamily(5 as 4), TypeError);
});

t.test('EVEN-PORT carries the R bit', async (t) => {
  t.equal(decodeWith(decodeEvenPort, T.EVEN_PORT, encodeEvenPort(true)), true);
  t.equal(decodeWith(decodeEvenPort, T.EVEN_PORT, encodeEvenPort(false)), false);
  t.same(encodeEvenPort(true), Buffer.from([0x80]));
  t.equal(decodeWith(decodeEvenPort, T.EVEN_PORT, Buffer.from([0x7f])), false, 'RFFU ignored');
  t.equal(decodeWith(decodeEvenPort, T.EVEN_PORT, Buffer.alloc(0)), undefined);
  t.equal(decodeWith(decodeEvenPort, T.EVEN_PORT, Buffer.alloc(4)), undefined);
});

t.test('RESERVATION-TOKEN is 8 bytes', async (t) => {
  const token = Buffer.from('0011223344556677', 'hex');
  t.same(
    decodeWith(decodeReservationToken, T.RESERVATION_TOKEN, encodeReservationToken(token)),
    token,
  );
  t.equal(decodeWith(decodeReservationToken, T.RESERVATION_TOKEN, Buffer.alloc(7)), undefined);
  t.throws(() => encodeReservationToken(Buffer.alloc(4)), TypeError);
});

t.test('DATA is a view into the message', async (t) => {
  const payload = Buffer.from('hello, peer');
  const [m, a] = one(T.DATA, payload);
  const data = decodeData(m, a);
  t.same(data, payload);
  t.equal(data.buffer, m.buffer.buffer, 'same memory, not a copy');
  t.same(decodeWith(decodeData, T.DATA, Buffer.alloc(0)), Buffer.alloc(0));
});

t.test('ADDRESS-ERROR-CODE', async (t) => {
  t.same(decodeWith(decodeAddressErrorCode, T.ADDRESS_ERROR_CODE, encodeAddressErrorCode(6, 440)), {
    family: 6,
    code: 440,
    reason: 'Address Family not Supported',
  });
  t.same(
    decodeWith(decodeAddressErrorCode, T.ADDRESS_ERROR_CODE, encodeAddressErrorCode(4, 508, 'x')),
    { family: 4, code: 508, reason: 'x' },
  );
  for (const value of [
    Buffer.from([3, 0, 4, 40]),
    Buffer.from([1, 0, 2, 40]),
    Buffer.from([1, 0, 4, 140]),
    Buffer.from([1, 0, 4]),
  ]) {
    t.equal(decodeWith(decodeAddressErrorCode, T.ADDRESS_ERROR_CODE, value), undefined);
  }
  t.throws(() => encodeAddressErrorCode(5 as 4, 440), TypeError);
  t.throws(() => encodeAddressErrorCode(4, 200), TypeError);
});

t.test('ICMP', async (t) => {
  for (const info of [
    { type: 3, code: 4, errorData: 1400 },
    { type: 2, code: 0, errorData: 1280 },
    { type: 127, code: 511, errorData: 0xffffffff },
    { type: 0, code: 0, errorData: 0 },
  ]) {
    t.same(decodeWith(decodeIcmp, T.ICMP, encodeIcmp(info)), info);
  }
  t.same(encodeIcmp({ type: 1, code: 1, errorData: 0 }), Buffer.from('0000020100000000', 'hex'));
  t.equal(decodeWith(decodeIcmp, T.ICMP, Buffer.alloc(4)), undefined);
  t.throws(() => encodeIcmp({ type: 128, code: 0, errorData: 0 }), TypeError);
  t.throws(() => encodeIcmp({ type: 0, code: 512, errorData: 0 }), TypeError);
});

t.test('PASSWORD-ALGORITHMS / PASSWORD-ALGORITHM', async (t) => {
  const both = [
    passwordAlgorithm(PasswordAlgorithm.MD5),
    passwordAlgorithm(PasswordAlgorithm.SHA256),
  ];
  t.same(encodePasswordAlgorithms(both), Buffer.from('0001000000020000', 'hex'));
  const decoded = decodeWith(
    decodePasswordAlgorithms,
    T.PASSWORD_ALGORITHMS,
    encodePasswordAlgorithms(both),
  );
  t.same(
    decoded?.map((e) => e.algorithm),
    [1, 2],
  );
  const withParams = [{ algorithm: 0x1234, parameters: Buffer.from([9, 8, 7]) }, both[1]!];
  const v = encodePasswordAlgorithms(withParams);
  t.equal(v.length, 4 + 4 + 4, 'parameters padded to 4');
  t.same(decodeWith(decodePasswordAlgorithms, T.PASSWORD_ALGORITHMS, v), withParams);
  t.same(
    decodeWith(decodePasswordAlgorithm, T.PASSWORD_ALGORITHM, encodePasswordAlgorithms([both[1]!])),
    both[1],
  );
  t.equal(
    decodeWith(decodePasswordAlgorithm, T.PASSWORD_ALGORITHM, encodePasswordAlgorithms(both)),
    undefined,
    'two entries',
  );
  t.equal(decodeWith(decodePasswordAlgorithms, T.PASSWORD_ALGORITHMS, Buffer.alloc(0)), undefined);
  t.equal(
    decodeWith(decodePasswordAlgorithms, T.PASSWORD_ALGORITHMS, Buffer.from([0, 1, 0])),
    undefined,
  );
  t.equal(
    decodeWith(
      decodePasswordAlgorithms,
      T.PASSWORD_ALGORITHMS,
      Buffer.from([0, 1, 0, 8, 1, 2, 3, 4]),
    ),
    undefined,
    'parameters longer than the value',
  );
});

t.test('USERHASH', async (t) => {
  const h = userhash('alice', 'rtcd');
  t.equal(h.length, 32);
  t.same(decodeWith(decodeUserhash, T.USERHASH, h), h);
  t.equal(decodeWith(decodeUserhash, T.USERHASH, h.subarray(0, 31)), undefined);
});

t.test('the registry decodes every contract attribute type and names them', async (t) => {
  for (const [name, type] of Object.entries(AttributeType)) {
    t.ok(attributeDecoders.has(type), `${name} has a decoder`);
    t.equal(attributeName(type), name.replaceAll('_', '-'));
  }
  t.equal(attributeName(0xabcd), '0xabcd');
  const r = decodeStunMessage(
    new StunMessageBuilder(0, 1, TXID)
      .addString(T.USERNAME, 'bob')
      .addUint32(T.LIFETIME, 60)
      .add(T.DATA, Buffer.alloc(10))
      .add(0x7001, Buffer.alloc(1))
      .toBuffer(),
  );
  t.ok(r.ok);
  if (r.ok) {
    t.same(describeAttributes(r.message), [
      ['USERNAME', 'bob'],
      ['LIFETIME', 60],
      ['DATA', '10 bytes'],
      ['0x7001', '1 bytes'],
    ]);
  }
});
