/**
 * The peer's transport parameters read from a parsed description (RFC 8839 §5.4 ICE
 * credentials, RFC 8122 §5 fingerprints, RFC 4145 §4 setup; media level over session level,
 * the BUNDLE group's first section), and the refusals with their codes: ICE credentials outside
 * the RFC 8839 §5.4 grammar and fingerprints that are not hex of their hash's length are refused
 * with stable codes (WHIP, WHEP and rooms answer bad-sdp).
 */
import t from 'tap';
import { parse } from '../../lib/sdp/parse.js';
import { SfuRoomService } from '../../lib/sfu/room-service.js';
import { SfuServer } from '../../lib/sfu/sfu-server.js';
import type { SfuServerMessage } from '../../lib/signal/room-service.js';
import { remoteParametersOf } from '../../lib/webrtc/remote-description.js';
import { peerOffer } from '../sfu/ops-peer.js';

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(
  ':',
);

function sdp(session: string[], ...media: string[][]): string {
  const lines = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', ...session];
  for (const m of media) lines.push(...m);
  return `${lines.join('\r\n')}\r\n`;
}

function read(text: string) {
  const p = parse(text);
  if (!p.ok) throw new Error(`${p.error.code} at ${p.error.line}`);
  return remoteParametersOf(p.value);
}

const audio = (mid: string, extra: string[] = [], port = 9) => [
  `m=audio ${port} UDP/TLS/RTP/SAVPF 111`,
  'c=IN IP4 0.0.0.0',
  `a=mid:${mid}`,
  'a=rtpmap:111 opus/48000/2',
  ...extra,
];

t.test('media-level attributes of the BUNDLE group’s first section', async (t) => {
  const r = read(
    sdp(
      ['a=group:BUNDLE b a'],
      audio('a', [
        'a=ice-ufrag:aaaa',
        'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa',
        `a=fingerprint:sha-1 ${FP.slice(0, 59)}`,
        'a=setup:active',
      ]),
      audio('b', [
        'a=ice-ufrag:bbbb',
        'a=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb',
        `a=fingerprint:SHA-256 ${FP}`,
        'a=setup:actpass',
      ]),
    ),
  );
  t.same(r, {
    ok: true,
    value: {
      iceUfrag: 'bbbb',
      icePwd: 'bbbbbbbbbbbbbbbbbbbbbb',
      setup: 'actpass',
      fingerprints: [{ algorithm: 'sha-256', value: FP }],
    },
  });
});

t.test('session-level fallbacks; an absent a=setup means active', async (t) => {
  const r = read(
    sdp(
      ['a=ice-ufrag:sess', 'a=ice-pwd:ssssssssssssssssssssss', `a=fingerprint:sha-256 ${FP}`],
      audio('0'),
    ),
  );
  t.same(r, {
    ok: true,
    value: {
      iceUfrag: 'sess',
      icePwd: 'ssssssssssssssssssssss',
      setup: 'active',
      fingerprints: [{ algorithm: 'sha-256', value: FP }],
    },
  });
});

t.test('refusals', async (t) => {
  const ice = ['a=ice-ufrag:aaaa', 'a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa'];
  const fp = [`a=fingerprint:sha-256 ${FP}`];
  const cases: [string, string, string][] = [
    ['no-media', sdp([...ice, ...fp]), 'no media section'],
    ['no-media', sdp([...ice, ...fp], audio('0', [], 0)), 'only a rejected section'],
    ['missing-ice-credentials', sdp(fp, audio('0', ['a=ice-ufrag:aaaa'])), 'no ice-pwd'],
    ['missing-fingerprint', sdp(ice, audio('0')), 'no fingerprint'],
    [
      'missing-fingerprint',
      sdp([...ice, `a=fingerprint:md5 ${FP.slice(0, 47)}`], audio('0')),
      'an unknown hash only',
    ],
    ['bad-setup', sdp([...ice, ...fp], audio('0', ['a=setup:holdconn'])), 'holdconn'],
  ];
  for (const [error, text, name] of cases) t.same(read(text), { ok: false, error }, name);
});

/** A transport of one audio section with these credentials and fingerprints. */
function transport(ufrag: string, pwd: string, fingerprints: string[]) {
  return read(
    sdp(
      [],
      audio('0', [
        `a=ice-ufrag:${ufrag}`,
        `a=ice-pwd:${pwd}`,
        ...fingerprints.map((f) => `a=fingerprint:${f}`),
      ]),
    ),
  );
}

const PWD = 'p'.repeat(22);
const SHA256 = `sha-256 ${FP}`;

t.test('RFC 8839 §5.4: ice-ufrag is 4-256 ice-chars, ice-pwd 22-256', async (t) => {
  const ok: [string, string, string][] = [
    ['nQjH', 'zH/w66q+SB+u9ZtvXNzPVLlC', 'Chromium’s: a 4-char ufrag, a 24-char pwd with + and /'],
    ['a+/9', PWD, 'ufrag of exactly 4, with + and /'],
    ['u'.repeat(256), 'p'.repeat(256), 'both at 256'],
  ];
  for (const [ufrag, pwd, name] of ok) {
    t.match(transport(ufrag, pwd, [SHA256]), { ok: true, value: { iceUfrag: ufrag } }, name);
  }
  const bad: [string, string, string][] = [
    ['abc', PWD, 'a 3-char ufrag'],
    ['u'.repeat(257), PWD, 'a 257-char ufrag'],
    ['a!b#c', PWD, 'a ufrag with ! and #'],
    ['ab-cd', PWD, 'a ufrag with - (not an ice-char)'],
    ['ab_cd', PWD, 'a ufrag with _'],
    ['abcd', 'p'.repeat(21), 'a 21-char pwd'],
    ['abcd', 'p'.repeat(257), 'a 257-char pwd'],
    ['abcd', `${'p'.repeat(22)}=`, 'a pwd with = (base64 padding is not an ice-char)'],
    ['abcd', `${'p'.repeat(11)}é${'p'.repeat(11)}`, 'a pwd with a non-ASCII letter'],
  ];
  for (const [ufrag, pwd, name] of bad) {
    t.same(transport(ufrag, pwd, [SHA256]), { ok: false, error: 'bad-ice-credentials' }, name);
  }
  t.same(
    read(sdp(['a=ice-ufrag:ab.c', `a=ice-pwd:${PWD}`, `a=fingerprint:${SHA256}`], audio('0'))),
    { ok: false, error: 'bad-ice-credentials' },
    'session-level credentials are checked too',
  );
});

/** `n` bytes as colon-separated hex pairs. */
const hex = (n: number, c = 'AB') => Array.from({ length: n }, () => c).join(':');

t.test('RFC 8122 §5: a fingerprint is colon-separated hex of its hash’s length', async (t) => {
  const sizes: [string, number][] = [
    ['sha-1', 20],
    ['sha-224', 28],
    ['sha-256', 32],
    ['sha-384', 48],
    ['sha-512', 64],
  ];
  for (const [algorithm, bytes] of sizes) {
    t.match(
      transport('abcd', PWD, [`${algorithm} ${hex(bytes)}`]),
      { ok: true, value: { fingerprints: [{ algorithm, value: hex(bytes) }] } },
      `${algorithm}: ${bytes} bytes`,
    );
    for (const n of [bytes - 1, bytes + 1]) {
      t.same(
        transport('abcd', PWD, [`${algorithm} ${hex(n)}`]),
        { ok: false, error: 'bad-fingerprint' },
        `${algorithm}: ${n} bytes is refused`,
      );
    }
  }
  const lower = FP.toLowerCase();
  t.match(
    transport('abcd', PWD, [`sha-256 ${lower}`]),
    { ok: true, value: { fingerprints: [{ value: lower }] } },
    'lower-case hex is hex too',
  );
  const bad: [string, string][] = [
    [`sha-256 ${hex(32, 'ZZ')}`, 'pairs that are not hex'],
    [`sha-256 ${FP.replace(/:/g, '')}`, 'hex without colons'],
    [`sha-256 ${FP.replace(/:/g, '-')}`, 'dashes for colons'],
    [`sha-256 ${FP.slice(0, -3)}:A`, 'a last pair of one digit'],
    [`sha-256 ${FP.slice(3)}:`, 'a trailing colon'],
    [`sha-256 ${hex(16, 'ABC')}`, 'three-digit groups'],
  ];
  for (const [line, name] of bad) {
    t.same(transport('abcd', PWD, [line]), { ok: false, error: 'bad-fingerprint' }, name);
  }
  t.same(
    transport('abcd', PWD, [SHA256, `sha-1 ${hex(19)}`]),
    { ok: false, error: 'bad-fingerprint' },
    'a malformed one beside a good one still refuses the description',
  );
  t.match(
    transport('abcd', PWD, ['md5 not-hex-at-all', SHA256]),
    { ok: true, value: { fingerprints: [{ algorithm: 'sha-256' }] } },
    'a hash we do not know is skipped, whatever its value',
  );
});

t.test('a room peer’s publish offer with such credentials or fingerprint is bad-sdp', async (t) => {
  const sfu = new SfuServer();
  await sfu.listen();
  const service = new SfuRoomService(sfu);
  t.teardown(async () => {
    service.close();
    await sfu.close();
  });
  const got: { peerId: string; message: SfuServerMessage }[] = [];
  service.attach((peerId, message) => got.push({ peerId, message }));
  const good = await peerOffer('sendonly', [{ kind: 'audio', ssrc: 5 }]);
  const edits: [string, string, string][] = [
    [
      'bad-ice-credentials',
      good.replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:with-dashes-is-not-ice-chars'),
      'a pwd with dashes',
    ],
    [
      'bad-fingerprint',
      good.replace(/(a=fingerprint:sha-256 \S+):[0-9A-F]{2}/g, '$1'),
      'a 31-byte sha-256',
    ],
  ];
  for (const [reason, sdp, name] of edits) {
    got.length = 0;
    service.join('bad', 'p1');
    service.message('bad', 'p1', { type: 'publish', sdp });
    t.match(
      got,
      [
        {
          peerId: 'p1',
          message: { type: 'error', code: 'bad-sdp', ref: 'publish', message: new RegExp(reason) },
        },
      ],
      `${name}: error bad-sdp (${reason})`,
    );
    t.equal(sfu.media().mux.counters().sessions, 0, `${name}: no ICE session`);
    service.leave('bad', 'p1');
  }
  got.length = 0;
  service.join('bad', 'p2');
  service.message('bad', 'p2', { type: 'publish', sdp: good });
  t.match(got, [{ message: { type: 'publish-answer' } }], 'the unedited offer is answered');
});
