import t from 'tap';
import {
  buildCheckError,
  buildCheckRequest,
  buildCheckSuccess,
  verifyCheckRequest,
  verifyCheckResponse,
} from '../../lib/ice/stun-check.js';
import { decodeXorAddress } from '../../lib/stun/attributes/address.js';
import { decodeErrorCode } from '../../lib/stun/attributes/error-code.js';
import { decodeUnknownAttributes } from '../../lib/stun/attributes/unknown-attributes.js';
import { StunMessageBuilder } from '../../lib/stun/builder.js';
import { AttributeType, StunClass, StunMethod } from '../../lib/stun/constants.js';
import { verifyFingerprint } from '../../lib/stun/fingerprint.js';
import { shortTermKey, verifyMessageIntegrity } from '../../lib/stun/integrity.js';
import { decodeStunMessage, type StunMessage } from '../../lib/stun/message.js';
import { RFC5769_IPV4_RESPONSE, RFC5769_REQUEST } from '../stun/vectors.js';

const LOCAL = { ufrag: 'srvA', pwd: 'server-password-0123456789' };
const REMOTE = { ufrag: 'cliB', pwd: 'client-password-0123456789' };
const TX = Buffer.from('0102030405060708090a0b0c', 'hex');

function decode(buf: Buffer): StunMessage {
  const r = decodeStunMessage(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  return r.message;
}

/** A check from the client (REMOTE) to us (LOCAL), as a controlling full agent sends it. */
function clientCheck(extra: Partial<Parameters<typeof buildCheckRequest>[0]> = {}): Buffer {
  return buildCheckRequest(
    {
      localUfrag: REMOTE.ufrag,
      remoteUfrag: LOCAL.ufrag,
      remotePwd: LOCAL.pwd,
      priority: 0x6e0001ff,
      role: 'controlling',
      tieBreaker: 0x0123456789abcdefn,
      useCandidate: true,
      ...extra,
    },
    TX,
  );
}

const passwordFor = (ufrag: string): string | undefined =>
  ufrag === LOCAL.ufrag ? LOCAL.pwd : undefined;

/** A hand-built Binding request body; `seal` adds integrity under LOCAL.pwd and FINGERPRINT. */
function handBuilt(
  build: (b: StunMessageBuilder) => void,
  seal: { integrity?: boolean; fingerprint?: boolean } = {},
): Buffer {
  const b = new StunMessageBuilder(StunClass.request, StunMethod.binding, TX);
  build(b);
  if (seal.integrity !== false) b.addMessageIntegrity(shortTermKey(LOCAL.pwd));
  if (seal.fingerprint !== false) b.addFingerprint();
  return b.toBuffer();
}

t.test(
  'RFC 8445 §7.1.1: a check carries USERNAME remote:local, PRIORITY, role, USE-CANDIDATE, MESSAGE-INTEGRITY under the remote password and FINGERPRINT',
  async (t) => {
    const m = decode(clientCheck());
    t.equal(m.messageClass, StunClass.request);
    t.equal(m.method, StunMethod.binding);
    t.same([...m.transactionId], [...TX]);
    t.equal(m.value(AttributeType.USERNAME)?.toString(), 'srvA:cliB');
    t.equal(m.value(AttributeType.PRIORITY)?.readUInt32BE(0), 0x6e0001ff);
    t.equal(m.value(AttributeType.ICE_CONTROLLING)?.readBigUInt64BE(0), 0x0123456789abcdefn);
    t.notOk(m.has(AttributeType.ICE_CONTROLLED));
    t.equal(m.value(AttributeType.USE_CANDIDATE)?.length, 0);
    t.ok(verifyMessageIntegrity(m, shortTermKey(LOCAL.pwd)));
    t.notOk(verifyMessageIntegrity(m, shortTermKey(REMOTE.pwd)));
    t.ok(verifyFingerprint(m));
    const controlled = decode(clientCheck({ role: 'controlled', useCandidate: false }));
    t.ok(controlled.has(AttributeType.ICE_CONTROLLED));
    t.notOk(controlled.has(AttributeType.USE_CANDIDATE));
    t.equal(
      buildCheckRequest({
        ...REMOTE,
        localUfrag: 'a',
        remoteUfrag: 'b',
        remotePwd: 'p',
        priority: 1,
        role: 'controlling',
        tieBreaker: 1n,
      }).length,
      20 + 8 + 8 + 12 + 24 + 8,
    );
  },
);

t.test('a valid check is accepted with its ICE fields', async (t) => {
  const v = verifyCheckRequest(clientCheck(), passwordFor);
  if (!v.ok) throw t.fail(`rejected: ${v.reason}`);
  t.equal(v.usernameLocal, 'srvA');
  t.equal(v.usernameRemote, 'cliB');
  t.equal(v.priority, 0x6e0001ff);
  t.equal(v.role, 'controlling');
  t.equal(v.tieBreaker, 0x0123456789abcdefn);
  t.equal(v.useCandidate, true);
});

t.test(
  'RFC 5769 §2.1: the sample request is an ICE check that authenticates as evtj',
  async (t) => {
    const v = verifyCheckRequest(RFC5769_REQUEST, (u) =>
      u === 'evtj' ? 'VOkJxbRl1RmTxUk/WvJxBt' : undefined,
    );
    if (!v.ok) throw t.fail(`rejected: ${v.reason}`);
    t.equal(v.usernameRemote, 'h6vY');
    t.equal(v.priority, 0x6e0001ff);
    t.equal(v.role, 'controlled');
    t.equal(v.tieBreaker, 0x932ff9b151263b36n);
    t.equal(v.useCandidate, false);
  },
);

t.test(
  'RFC 5769 §2.2: the sample IPv4 response verifies under the password, not another',
  async (t) => {
    t.ok(verifyCheckResponse(RFC5769_IPV4_RESPONSE, 'VOkJxbRl1RmTxUk/WvJxBt'));
    t.notOk(verifyCheckResponse(RFC5769_IPV4_RESPONSE, 'VOkJxbRl1RmTxUk/WvJxBT'));
    t.notOk(
      verifyCheckResponse(RFC5769_REQUEST, 'VOkJxbRl1RmTxUk/WvJxBt'),
      'a request is not a response',
    );
  },
);

t.test('rejections name their reason', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['a DTLS record', Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'not-stun'],
    ['a truncated check', clientCheck().subarray(0, 40), 'malformed'],
    ['an empty buffer', Buffer.alloc(0), 'not-stun'],
    [
      'a wrong password',
      buildCheckRequest({
        localUfrag: 'cliB',
        remoteUfrag: 'srvA',
        remotePwd: 'nope',
        priority: 1,
        role: 'controlling',
        tieBreaker: 1n,
      }),
      'bad-integrity',
    ],
    [
      'an unknown ufrag',
      buildCheckRequest({
        localUfrag: 'cliB',
        remoteUfrag: 'zzzz',
        remotePwd: LOCAL.pwd,
        priority: 1,
        role: 'controlling',
        tieBreaker: 1n,
      }),
      'unknown-ufrag',
    ],
    ['no USERNAME', handBuilt((b) => b.addUint32(AttributeType.PRIORITY, 1)), 'no-username'],
    [
      'USERNAME without a colon',
      handBuilt((b) => b.addString(AttributeType.USERNAME, 'srvA')),
      'malformed',
    ],
    [
      'USERNAME starting with a colon',
      handBuilt((b) => b.addString(AttributeType.USERNAME, ':srvA')),
      'malformed',
    ],
    [
      'no FINGERPRINT',
      handBuilt(
        (b) => b.addString(AttributeType.USERNAME, 'srvA:x').addUint32(AttributeType.PRIORITY, 1),
        { fingerprint: false },
      ),
      'bad-fingerprint',
    ],
    [
      'no MESSAGE-INTEGRITY',
      handBuilt(
        (b) => b.addString(AttributeType.USERNAME, 'srvA:x').addUint32(AttributeType.PRIORITY, 1),
        { integrity: false },
      ),
      'malformed',
    ],
    ['no PRIORITY', handBuilt((b) => b.addString(AttributeType.USERNAME, 'srvA:x')), 'malformed'],
    [
      'a 2-byte PRIORITY',
      handBuilt((b) =>
        b.addString(AttributeType.USERNAME, 'srvA:x').add(AttributeType.PRIORITY, Buffer.alloc(2)),
      ),
      'malformed',
    ],
    [
      'both roles',
      handBuilt((b) =>
        b
          .addString(AttributeType.USERNAME, 'srvA:x')
          .addUint32(AttributeType.PRIORITY, 1)
          .add(AttributeType.ICE_CONTROLLING, Buffer.alloc(8))
          .add(AttributeType.ICE_CONTROLLED, Buffer.alloc(8)),
      ),
      'malformed',
    ],
    [
      'a 4-byte tie-breaker',
      handBuilt((b) =>
        b
          .addString(AttributeType.USERNAME, 'srvA:x')
          .addUint32(AttributeType.PRIORITY, 1)
          .add(AttributeType.ICE_CONTROLLING, Buffer.alloc(4)),
      ),
      'malformed',
    ],
    [
      'a USE-CANDIDATE with a value',
      handBuilt((b) =>
        b
          .addString(AttributeType.USERNAME, 'srvA:x')
          .addUint32(AttributeType.PRIORITY, 1)
          .add(AttributeType.USE_CANDIDATE, Buffer.alloc(4)),
      ),
      'malformed',
    ],
    [
      'an unknown comprehension-required attribute',
      handBuilt((b) =>
        b
          .addString(AttributeType.USERNAME, 'srvA:x')
          .addUint32(AttributeType.PRIORITY, 1)
          .add(0x7777, Buffer.alloc(4)),
      ),
      'unknown-attribute',
    ],
  ];
  for (const [name, buf, reason] of cases) {
    const v = verifyCheckRequest(buf, passwordFor);
    t.equal(v.ok ? 'accepted' : v.reason, reason, name);
  }
  const flipped = Buffer.from(clientCheck());
  flipped[30]! ^= 1;
  const v = verifyCheckRequest(flipped, passwordFor);
  t.equal(v.ok ? 'accepted' : v.reason, 'bad-fingerprint', 'one flipped bit fails the fingerprint');
  const unknown = verifyCheckRequest(
    handBuilt((b) =>
      b
        .addString(AttributeType.USERNAME, 'srvA:x')
        .addUint32(AttributeType.PRIORITY, 1)
        .add(0x7777, Buffer.alloc(4))
        .add(0x7777, Buffer.alloc(0))
        .add(0x0031, Buffer.alloc(0)),
    ),
    passwordFor,
  );
  t.same(unknown.ok ? [] : unknown.unknownAttributes, [0x7777, 0x0031]);
  const optional = verifyCheckRequest(
    handBuilt((b) =>
      b
        .addString(AttributeType.USERNAME, 'srvA:x')
        .addUint32(AttributeType.PRIORITY, 1)
        .add(0xc057, Buffer.alloc(4)),
    ),
    passwordFor,
  );
  t.ok(optional.ok, 'comprehension-optional attributes (Chromium GOOG-NETWORK-INFO) are ignored');
  const legacy = verifyCheckRequest(
    handBuilt((b) =>
      b.addString(AttributeType.USERNAME, 'srvA:x').addUint32(AttributeType.PRIORITY, 1),
    ),
    passwordFor,
  );
  t.equal(
    legacy.ok && legacy.role,
    undefined,
    'a check without a role attribute is accepted with no role',
  );
  t.ok(legacy.ok);
  const response = verifyCheckRequest(
    buildCheckSuccess(decode(clientCheck()), { family: 4, address: '1.2.3.4', port: 5 }, LOCAL.pwd),
    passwordFor,
  );
  t.equal(response.ok ? 'accepted' : response.reason, 'malformed', 'a response is not a check');
});

t.test(
  'RFC 8445 §7.3.1: the success response maps the source and verifies under the local password',
  async (t) => {
    const request = decode(clientCheck());
    for (const mapped of [
      { family: 4, address: '192.0.2.1', port: 32853 },
      { family: 6, address: '2001:db8::1', port: 9 },
    ] as const) {
      const buf = buildCheckSuccess(request, mapped, LOCAL.pwd);
      const m = verifyCheckResponse(buf, LOCAL.pwd);
      if (m === undefined) throw t.fail('did not verify');
      t.equal(m.messageClass, StunClass.success);
      t.same([...m.transactionId], [...TX]);
      const a = m.get(AttributeType.XOR_MAPPED_ADDRESS);
      t.same(a && decodeXorAddress(m, a), mapped);
      t.notOk(verifyCheckResponse(buf, REMOTE.pwd), 'not under another password');
      t.ok(verifyCheckResponse(buf, shortTermKey(LOCAL.pwd)), 'a prepared key works too');
    }
  },
);

t.test('error responses: 487 and 420 authenticate, 400/401 cannot', async (t) => {
  const request = decode(clientCheck());
  const conflict = verifyCheckResponse(buildCheckError(request, 487, LOCAL.pwd), LOCAL.pwd);
  if (conflict === undefined) throw t.fail('487 did not verify');
  const ec = conflict.get(AttributeType.ERROR_CODE);
  t.equal(ec && decodeErrorCode(conflict, ec)?.code, 487);
  const unknown = decode(buildCheckError(request, 420, LOCAL.pwd, [0x7777]));
  const ua = unknown.get(AttributeType.UNKNOWN_ATTRIBUTES);
  t.same(ua && decodeUnknownAttributes(unknown, ua), [0x7777]);
  t.ok(verifyMessageIntegrity(unknown, shortTermKey(LOCAL.pwd)));
  const bad = decode(buildCheckError(request, 401));
  t.notOk(bad.has(AttributeType.MESSAGE_INTEGRITY));
  t.ok(verifyFingerprint(bad));
  t.notOk(verifyCheckResponse(buildCheckError(request, 401), LOCAL.pwd), 'no integrity: discarded');
});
