/**
 * The peer's transport parameters read from a parsed description (RFC 8839 §5.4 ICE
 * credentials, RFC 8122 §5 fingerprints, RFC 4145 §4 setup; media level over session level,
 * the BUNDLE group's first section), and the refusals with their codes.
 */
import t from 'tap';
import { parse } from '../../lib/sdp/parse.js';
import { remoteParametersOf } from '../../lib/webrtc/remote-description.js';

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
