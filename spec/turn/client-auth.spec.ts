/**
 * RFC 8489 §9.2 long-term credentials from the client side, against a scripted server: the
 * 401 challenge and signed retry, 438 with a new nonce, signing up front afterwards,
 * PASSWORD-ALGORITHMS (§9.2.4), and rejecting responses whose MESSAGE-INTEGRITY is missing or
 * forged (§9.2.5: ignored on UDP, fatal on TCP).
 */
import t, { type Test } from 'tap';
import {
  AttributeType,
  decodePasswordAlgorithm,
  decodeString,
  decodeXorAddress,
  encodePasswordAlgorithms,
  longTermKey,
  PasswordAlgorithm,
  passwordAlgorithm,
  StunClass,
  type StunMessage,
  StunMessageBuilder,
  StunMethod,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/index.js';
import type { TurnClientOptions } from '../../lib/turn/client.js';
import { decodeFrame as decode, scriptedClient } from '../helpers/scripted-server.js';

const USER = 'alice';
const PASS = 'wonderland';
const REALM = 'rtcd.test';
const MD5_KEY = longTermKey(USER, REALM, PASS, 'md5');
const SHA256_KEY = longTermKey(USER, REALM, PASS, 'sha256');

function text(m: StunMessage, type: number): string | undefined {
  const a = m.get(type);
  return a === undefined ? undefined : decodeString(m, a, 763);
}

function errorResponse(
  request: StunMessage,
  code: number,
  extra: (b: StunMessageBuilder) => void = () => {},
): Buffer {
  const b = StunMessageBuilder.responseTo(request, StunClass.error).addErrorCode(code);
  extra(b);
  return b.addFingerprint().toBuffer();
}

function challenge(request: StunMessage, nonce: string, offered?: number[]): Buffer {
  return errorResponse(request, 401, (b) => {
    b.addString(AttributeType.REALM, REALM).addString(AttributeType.NONCE, nonce);
    if (offered) {
      b.add(
        AttributeType.PASSWORD_ALGORITHMS,
        encodePasswordAlgorithms(offered.map((a) => passwordAlgorithm(a as PasswordAlgorithm))),
      );
    }
  });
}

/** A Refresh success (LIFETIME 600) signed with `key`; `sha256` picks the integrity type. */
function refreshSuccess(request: StunMessage, key: Buffer | undefined, sha256 = false): Buffer {
  const b = StunMessageBuilder.responseTo(request, StunClass.success);
  b.addUint32(AttributeType.LIFETIME, 600);
  if (key && sha256) b.addMessageIntegritySha256(key);
  else if (key) b.addMessageIntegrity(key);
  return b.addFingerprint().toBuffer();
}

function setup(t: Test, kind: 'udp' | 'tcp', options: Partial<TurnClientOptions> = {}) {
  return scriptedClient(t, kind, {
    username: USER,
    password: PASS,
    closeTimeoutMs: 100,
    ...options,
  });
}

t.test('401 then signed retry, 438 then the new nonce, then signed up front', async (t) => {
  const { server, client } = await setup(t, 'udp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    const n = server.frames.length;
    if (n === 1) s.send(challenge(m, 'nonce-1'));
    else if (n === 2)
      s.send(errorResponse(m, 438, (b) => b.addString(AttributeType.NONCE, 'nonce-2')));
    else s.send(refreshSuccess(m, MD5_KEY));
  };
  t.equal(await client.refresh(600), 600);
  t.equal(await client.refresh(600), 600);
  const [first, second, third, fourth] = server.frames.map((f) => decode(f.bytes));
  t.equal(server.frames.length, 4);

  t.notOk(first!.has(AttributeType.USERNAME), 'the first request carries no credentials');
  t.notOk(first!.has(AttributeType.MESSAGE_INTEGRITY));
  for (const m of [first!, second!, third!, fourth!]) {
    t.ok(verifyFingerprint(m), 'every request has a valid FINGERPRINT');
    t.equal(m.method, StunMethod.refresh);
  }
  t.equal(text(second!, AttributeType.USERNAME), USER);
  t.equal(text(second!, AttributeType.REALM), REALM);
  t.equal(text(second!, AttributeType.NONCE), 'nonce-1');
  t.ok(verifyMessageIntegrity(second!, MD5_KEY), 'MESSAGE-INTEGRITY under MD5(user:realm:pass)');
  t.equal(text(third!, AttributeType.NONCE), 'nonce-2', '438 taught the new nonce');
  t.ok(verifyMessageIntegrity(third!, MD5_KEY));
  t.equal(text(fourth!, AttributeType.NONCE), 'nonce-2', 'later requests are signed at once');
  t.ok(verifyMessageIntegrity(fourth!, MD5_KEY));
  const ids = new Set(server.frames.map((f) => f.bytes.subarray(8, 20).toString('hex')));
  t.equal(ids.size, 4, 'each retry is a new transaction');
});

t.test('a 401 to a signed request (wrong password) fails after one retry', async (t) => {
  const { server, client } = await setup(t, 'udp', { rtoMs: 50, rc: 2, rm: 2 });
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'nonce'));
    else {
      // Signed with the server's idea of the key: not the client's. Still a 401, not a forgery.
      const b = StunMessageBuilder.responseTo(m, StunClass.error).addErrorCode(401);
      b.addString(AttributeType.REALM, REALM).addString(AttributeType.NONCE, 'nonce');
      s.send(
        b
          .addMessageIntegrity(longTermKey(USER, REALM, 'real'))
          .addFingerprint()
          .toBuffer(),
      );
    }
  };
  await t.rejects(client.refresh(600), {
    code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
    stunCode: 401,
    stunReason: 'Unauthenticated',
  });
  t.equal(server.frames.length, 2);
});

t.test('a second 438 in a row is not retried again', async (t) => {
  const { server, client } = await setup(t, 'tcp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'n1'));
    else s.send(errorResponse(m, 438, (b) => b.addString(AttributeType.NONCE, 'n-next')));
  };
  await t.rejects(client.refresh(600), {
    code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
    stunCode: 438,
  });
  t.equal(server.frames.length, 3);
});

t.test('other error responses reject with their code and reason', async (t) => {
  const { server, client } = await setup(t, 'udp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'n1'));
    else {
      const b = StunMessageBuilder.responseTo(m, StunClass.error).addErrorCode(486, 'Too Many');
      s.send(b.addMessageIntegrity(MD5_KEY).addFingerprint().toBuffer());
    }
  };
  await t.rejects(client.refresh(600), {
    code: 'RTCD_TURN_CLIENT_ERROR_RESPONSE',
    stunCode: 486,
    stunReason: 'Too Many',
  });
});

t.test('a forged success on UDP is ignored; the genuine one is accepted', async (t) => {
  const { server, client } = await setup(t, 'udp', { rtoMs: 20 });
  const wrongKey = longTermKey(USER, REALM, 'guess');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    const n = server.frames.length;
    if (n === 1) s.send(challenge(m, 'n1'));
    else if (n === 2) s.send(refreshSuccess(m, wrongKey));
    else if (n === 3)
      s.send(refreshSuccess(m, undefined)); // no integrity at all
    else s.send(refreshSuccess(m, MD5_KEY));
  };
  t.equal(await client.refresh(600), 600);
  t.equal(server.frames.length, 4, 'the client retransmitted past both bad answers');
});

t.test('a forged success on TCP fails the request', async (t) => {
  const { server, client } = await setup(t, 'tcp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'n1'));
    else s.send(refreshSuccess(m, longTermKey(USER, REALM, 'guess')));
  };
  await t.rejects(client.refresh(600), { code: 'RTCD_TURN_CLIENT_INTEGRITY' });
});

t.test('PASSWORD-ALGORITHMS (RFC 8489 §9.2.4)', async (t) => {
  const offeredBoth = [PasswordAlgorithm.MD5, PasswordAlgorithm.SHA256];
  const cases = [
    { name: 'sha256 preferred and offered', prefer: 'sha256', offered: offeredBoth, sha: true },
    { name: 'md5 by default', prefer: undefined, offered: offeredBoth, sha: false },
    {
      name: 'sha256 when it is all',
      prefer: undefined,
      offered: [PasswordAlgorithm.SHA256],
      sha: true,
    },
  ] as const;
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const { server, client } = await setup(t, 'udp', {
        ...(c.prefer ? { passwordAlgorithm: c.prefer } : {}),
      });
      let offeredValue: Buffer | undefined;
      server.onFrame = (bytes, s) => {
        const m = decode(bytes);
        if (server.frames.length === 1) {
          const response = challenge(m, 'obMatJos2AAABnonce', [...c.offered]);
          offeredValue = decode(response).value(AttributeType.PASSWORD_ALGORITHMS);
          s.send(response);
        } else s.send(refreshSuccess(m, c.sha ? SHA256_KEY : MD5_KEY, c.sha));
      };
      t.equal(await client.refresh(600), 600);
      const signed = decode(server.frames[1]!.bytes);
      t.same(
        signed.value(AttributeType.PASSWORD_ALGORITHMS),
        offeredValue,
        'PASSWORD-ALGORITHMS echoed as offered',
      );
      const chosen = decodePasswordAlgorithm(signed, signed.get(AttributeType.PASSWORD_ALGORITHM)!);
      t.equal(chosen?.algorithm, c.sha ? PasswordAlgorithm.SHA256 : PasswordAlgorithm.MD5);
      if (c.sha) {
        t.ok(verifyMessageIntegritySha256(signed, SHA256_KEY), 'MESSAGE-INTEGRITY-SHA256');
        t.notOk(signed.has(AttributeType.MESSAGE_INTEGRITY));
      } else {
        t.ok(verifyMessageIntegrity(signed, MD5_KEY), 'MESSAGE-INTEGRITY');
      }
    });
  }
});

t.test('request() copies the caller attributes into each retry', async (t) => {
  const { server, client } = await setup(t, 'udp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'n1'));
    else {
      s.send(
        StunMessageBuilder.responseTo(m, StunClass.success)
          .addMessageIntegrity(MD5_KEY)
          .addFingerprint()
          .toBuffer(),
      );
    }
  };
  const peer = { family: 6, address: '2001:db8::1', port: 0 } as const;
  const b = new StunMessageBuilder(StunClass.request, StunMethod.createPermission, Buffer.alloc(12))
    .addXorAddress(AttributeType.XOR_PEER_ADDRESS, peer)
    .addString(AttributeType.SOFTWARE, 'custom');
  const response = await client.request(b);
  t.equal(response.messageClass, StunClass.success);
  const [unsigned, signed] = server.frames.map((f) => decode(f.bytes));
  for (const m of [unsigned!, signed!]) {
    t.same(decodeXorAddress(m, m.get(AttributeType.XOR_PEER_ADDRESS)!), peer, 'IPv6 peer');
    t.equal(text(m, AttributeType.SOFTWARE), 'custom');
    t.equal(m.method, StunMethod.createPermission);
  }
  t.not(unsigned!.transactionId.toString('hex'), signed!.transactionId.toString('hex'));
  t.ok(verifyMessageIntegrity(signed!, MD5_KEY));
  await t.rejects(
    client.request(new StunMessageBuilder(StunClass.indication, StunMethod.send, Buffer.alloc(12))),
    TypeError,
  );
});
