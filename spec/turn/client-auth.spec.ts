/**
 * RFC 8489 §9.2 long-term credentials from the client side, against a scripted server: the
 * 401 challenge and signed retry, 438 with a new nonce, signing up front afterwards,
 * PASSWORD-ALGORITHMS and USERHASH under the nonce cookie (§9.2.5, quoted in the test names),
 * and rejecting responses whose MESSAGE-INTEGRITY is missing or forged (§9.2.5: ignored on
 * UDP, fatal on TCP).
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
  userhash,
  verifyFingerprint,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/index.js';
import { TurnClient, type TurnClientOptions } from '../../lib/turn/client.js';
import { nonceCookie } from '../../lib/turn/nonce.js';
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

const { MD5, SHA256 } = PasswordAlgorithm;
/** Nonces with an RFC 8489 §9.2 cookie announcing these features. */
const ALGORITHMS_NONCE = `${nonceCookie({ passwordAlgorithms: true })}nonce`;
const ANONYMOUS_NONCE = `${nonceCookie({ usernameAnonymity: true })}nonce`;
const BOTH_NONCE = `${nonceCookie({ passwordAlgorithms: true, usernameAnonymity: true })}nonce`;

function chosenAlgorithm(m: StunMessage): number | undefined {
  const a = m.get(AttributeType.PASSWORD_ALGORITHM);
  return a && decodePasswordAlgorithm(m, a)?.algorithm;
}

t.test('PASSWORD-ALGORITHMS in a 401 (RFC 8489 §9.2.5)', async (t) => {
  const cases: {
    name: string;
    offered: number[];
    options?: Partial<TurnClientOptions>;
    chosen: number;
  }[] = [
    {
      name: "[MD5, SHA256] → MD5: 'a PASSWORD-ALGORITHM attribute with the first algorithm supported on the list'",
      offered: [MD5, SHA256],
      chosen: MD5,
    },
    {
      name: '[SHA256, MD5] → SHA-256: the server’s order decides, not the client’s',
      offered: [SHA256, MD5],
      chosen: SHA256,
    },
    { name: '[SHA256] → SHA-256, the only algorithm offered', offered: [SHA256], chosen: SHA256 },
    {
      name: "passwordAlgorithms ['sha256'] facing [MD5, SHA256] → SHA-256, the first it supports",
      offered: [MD5, SHA256],
      options: { passwordAlgorithms: ['sha256'] },
      chosen: SHA256,
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const { server, client } = await setup(t, 'udp', c.options);
      const key = c.chosen === SHA256 ? SHA256_KEY : MD5_KEY;
      let offeredValue: Buffer | undefined;
      server.onFrame = (bytes, s) => {
        const m = decode(bytes);
        if (server.frames.length === 1) {
          const response = challenge(m, ALGORITHMS_NONCE, c.offered);
          offeredValue = decode(response).value(AttributeType.PASSWORD_ALGORITHMS);
          s.send(response);
        } else s.send(refreshSuccess(m, key, true));
      };
      t.equal(await client.refresh(600), 600);
      t.equal(await client.refresh(600), 600);
      t.equal(server.frames.length, 3);
      const [, retry, subsequent] = server.frames.map((f) => decode(f.bytes));
      for (const [m, what] of [
        [retry!, 'the retry'],
        [subsequent!, 'a subsequent request (§9.2.3.2)'],
      ] as const) {
        t.same(
          m.value(AttributeType.PASSWORD_ALGORITHMS),
          offeredValue,
          `${what}: 'the PASSWORD-ALGORITHMS attribute with the same content'`,
        );
        t.equal(chosenAlgorithm(m), c.chosen, `${what}: PASSWORD-ALGORITHM`);
        t.ok(
          verifyMessageIntegritySha256(m, key),
          `${what}: MESSAGE-INTEGRITY-SHA256 under the chosen algorithm's key`,
        );
        t.notOk(
          m.has(AttributeType.MESSAGE_INTEGRITY),
          `${what}: 'authenticated using MESSAGE-INTEGRITY-SHA256 only'`,
        );
        t.equal(text(m, AttributeType.USERNAME), USER, `${what}: USERNAME (no anonymity bit)`);
      }
    });
  }
});

t.test('a 401 without PASSWORD-ALGORITHMS (coturn 4.6): MD5 and MESSAGE-INTEGRITY', async (t) => {
  const { server, client } = await setup(t, 'udp');
  server.onFrame = (bytes, s) => {
    const m = decode(bytes);
    if (server.frames.length === 1) s.send(challenge(m, 'plain-nonce'));
    else s.send(refreshSuccess(m, MD5_KEY));
  };
  t.equal(await client.refresh(600), 600);
  const signed = decode(server.frames[1]!.bytes);
  t.ok(verifyMessageIntegrity(signed, MD5_KEY));
  for (const type of [
    AttributeType.MESSAGE_INTEGRITY_SHA256,
    AttributeType.PASSWORD_ALGORITHM,
    AttributeType.PASSWORD_ALGORITHMS,
    AttributeType.USERHASH,
  ]) {
    t.notOk(signed.has(type), `no attribute 0x${type.toString(16)}`);
  }
});

t.test(
  '\'If the "nonce cookie" ... has ... "Username anonymity" bit set to 1, then the USERHASH attribute MUST be used\'',
  async (t) => {
    const cases = [
      { name: 'with PASSWORD-ALGORITHMS', nonce: BOTH_NONCE, offered: [SHA256, MD5] },
      { name: 'without password algorithms (MD5, MESSAGE-INTEGRITY)', nonce: ANONYMOUS_NONCE },
    ];
    for (const c of cases) {
      t.test(c.name, async (t) => {
        const { server, client } = await setup(t, 'tcp');
        const sha256 = c.offered !== undefined;
        server.onFrame = (bytes, s) => {
          const m = decode(bytes);
          if (server.frames.length === 1) s.send(challenge(m, c.nonce, c.offered));
          else s.send(refreshSuccess(m, sha256 ? SHA256_KEY : MD5_KEY, sha256));
        };
        t.equal(await client.refresh(600), 600);
        t.equal(await client.refresh(600), 600);
        for (const f of server.frames.slice(1)) {
          const m = decode(f.bytes);
          t.same(m.value(AttributeType.USERHASH), userhash(USER, REALM), 'USERHASH');
          t.notOk(m.has(AttributeType.USERNAME), 'no USERNAME');
          if (sha256) t.ok(verifyMessageIntegritySha256(m, SHA256_KEY));
          else t.ok(verifyMessageIntegrity(m, MD5_KEY));
        }
      });
    }
  },
);

t.test('RFC 8489 §9.2.5 forbids some retries: RTCD_TURN_CLIENT_PASSWORD_ALGORITHMS', async (t) => {
  const cases: {
    name: string;
    answer: (m: StunMessage, n: number) => Buffer;
    options?: Partial<TurnClientOptions>;
    sent: number;
    stunCode: number;
  }[] = [
    {
      name: "a 401 whose cookie sets 'Password algorithms' without PASSWORD-ALGORITHMS: 'the client MUST NOT retry'",
      answer: (m) => challenge(m, ALGORITHMS_NONCE),
      sent: 1,
      stunCode: 401,
    },
    {
      name: 'a 438 likewise (a bid-down after the first challenge)',
      answer: (m, n) =>
        n === 1
          ? challenge(m, ALGORITHMS_NONCE, [SHA256, MD5])
          : errorResponse(m, 438, (b) => {
              b.addString(AttributeType.REALM, REALM);
              b.addString(AttributeType.NONCE, `${ALGORITHMS_NONCE}-2`);
            }),
      sent: 2,
      stunCode: 438,
    },
    {
      name: "passwordAlgorithms ['md5'] facing [SHA256]: 'does not contain any algorithm that is supported by the client'",
      answer: (m) => challenge(m, ALGORITHMS_NONCE, [SHA256]),
      options: { passwordAlgorithms: ['md5'] },
      sent: 1,
      stunCode: 401,
    },
    {
      name: "passwordAlgorithms ['sha256'] facing a classic 401 (no offer): no MD5 fallback",
      answer: (m) => challenge(m, 'plain-nonce'),
      options: { passwordAlgorithms: ['sha256'] },
      sent: 1,
      stunCode: 401,
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const { server, client } = await setup(t, 'udp', c.options);
      server.onFrame = (bytes, s) => s.send(c.answer(decode(bytes), server.frames.length));
      await t.rejects(client.refresh(600), {
        code: 'RTCD_TURN_CLIENT_PASSWORD_ALGORITHMS',
        stunCode: c.stunCode,
      });
      t.equal(server.frames.length, c.sent, 'no retry');
    });
  }
});

t.test(
  "'For all other responses' with such a cookie and no PASSWORD-ALGORITHMS: ignored",
  async (t) => {
    const { server, client } = await setup(t, 'udp', { rtoMs: 20 });
    server.onFrame = (bytes, s) => {
      const m = decode(bytes);
      const n = server.frames.length;
      if (n === 1) s.send(challenge(m, ALGORITHMS_NONCE, [SHA256]));
      else {
        // Correctly signed, but a NONCE announcing algorithms without the offer: ignored.
        const b = StunMessageBuilder.responseTo(m, StunClass.success);
        b.addUint32(AttributeType.LIFETIME, n === 2 ? 1 : 600);
        if (n === 2) b.addString(AttributeType.NONCE, ALGORITHMS_NONCE);
        s.send(b.addMessageIntegritySha256(SHA256_KEY).addFingerprint().toBuffer());
      }
    };
    t.equal(await client.refresh(600), 600, 'the retransmission’s answer is the one taken');
    t.equal(server.frames.length, 3);
  },
);

t.test('passwordAlgorithms is validated before connecting: TypeError', async (t) => {
  const server = { host: '127.0.0.1', port: 3478 };
  const cases: TurnClientOptions['passwordAlgorithms'][] = [[], ['sha1' as 'md5'], ['md5', 'md5']];
  for (const passwordAlgorithms of cases) {
    await t.rejects(
      TurnClient.connect({ server, passwordAlgorithms }),
      TypeError,
      JSON.stringify(passwordAlgorithms),
    );
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
