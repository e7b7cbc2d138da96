/**
 * RFC 8866 syntax: captured offers survive parse → serialize byte for byte, and malformed text
 * is refused with a stable code and the right line number, never an exception.
 */
import t from 'tap';
import { attributesOf, attributeValue, parse, serialize } from '../../lib/sdp/index.js';
import {
  CHROMIUM_GATHERED_OFFER,
  CHROMIUM_RECVONLY_OFFER,
  CHROMIUM_SIMULCAST_OFFER,
  HANDWRITTEN_OFFER,
  WERIFT_OFFER,
} from '../helpers/sdp-captures.js';

const CAPTURES: Record<string, string> = {
  'Chromium simulcast offer': CHROMIUM_SIMULCAST_OFFER,
  'Chromium gathered offer': CHROMIUM_GATHERED_OFFER,
  'Chromium recvonly offer': CHROMIUM_RECVONLY_OFFER,
  'werift offer': WERIFT_OFFER,
  'hand-written offer': HANDWRITTEN_OFFER,
};

for (const [name, text] of Object.entries(CAPTURES)) {
  t.test(`${name} round-trips byte for byte`, async (t) => {
    const r = parse(text);
    if (!r.ok) throw new Error(`parse failed: ${JSON.stringify(r.error)}`);
    t.equal(serialize(r.value), text);
    const lineCount = text.split('\r\n').length - 1;
    const modelled =
      r.value.session.length + r.value.media.reduce((n, m) => n + 1 + m.lines.length, 0);
    t.equal(modelled, lineCount, 'every line is in the model');
  });
}

t.test('the model splits session and media lines, m= parsed', async (t) => {
  const r = parse(CHROMIUM_SIMULCAST_OFFER);
  if (!r.ok) throw new Error('parse failed');
  const d = r.value;
  t.same(
    d.session.slice(0, 3).map((l) => l.type),
    ['v', 'o', 's'],
  );
  t.same(
    d.media.map((m) => [m.kind, m.port, m.protocol]),
    [
      ['audio', 9, 'UDP/TLS/RTP/SAVPF'],
      ['video', 9, 'UDP/TLS/RTP/SAVPF'],
      ['application', 9, 'UDP/DTLS/SCTP'],
    ],
  );
  t.same(d.media[0]!.formats, ['111', '63', '9', '0', '8', '13', '110', '126']);
  t.same(d.media[2]!.formats, ['webrtc-datachannel']);
  t.equal(attributeValue(d.session, 'msid-semantic'), ' WMS', 'raw value kept, leading space too');
  t.equal(attributeValue(d.media[0]!.lines, 'rtcp-mux'), '', 'a flag reads as empty');
  t.equal(attributesOf(d.media[0]!.lines)[0]!.name, 'rtcp');
});

t.test('LF-only input parses; serialize writes CRLF', async (t) => {
  const lf = CHROMIUM_RECVONLY_OFFER.replaceAll('\r\n', '\n');
  const r = parse(lf);
  t.ok(r.ok);
  if (r.ok) t.equal(serialize(r.value), CHROMIUM_RECVONLY_OFFER);
  const noFinal = parse(CHROMIUM_RECVONLY_OFFER.slice(0, -2));
  t.ok(noFinal.ok, 'a missing final newline is accepted');
});

t.test('a port count round-trips', async (t) => {
  const text = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 49170/2 RTP/AVP 31\r\n';
  const r = parse(text);
  if (!r.ok) throw new Error('parse failed');
  t.equal(r.value.media[0]!.portCount, 2);
  t.equal(serialize(r.value), text);
});

const HEAD = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
const BAD: [string, string, string, number][] = [
  ['empty text', '', 'bad-version', 1],
  ['v=1', 'v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n', 'bad-version', 1],
  ['o= first', 'o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\ns=-\r\n', 'bad-version', 1],
  ['o= with five fields', 'v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n', 'bad-origin', 2],
  ['o= with a double space', 'v=0\r\no=- 1  1 IN IP4 x\r\ns=-\r\n', 'bad-origin', 2],
  ['no s=', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n', 'missing-session-name', 3],
  ['only v=', 'v=0\r\n', 'bad-origin', 2],
  ['only v= and o=', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n', 'missing-session-name', 3],
  ['a line without =', `${HEAD}hello\r\n`, 'bad-line', 5],
  ['an upper-case type', `${HEAD}A=x\r\n`, 'bad-line', 5],
  ['an empty line inside', `${HEAD}\r\na=x\r\n`, 'bad-line', 5],
  ['a bare CR inside a value', `${HEAD}a=x\ry\r\n`, 'bad-line', 5],
  ['a NUL inside a value', `${HEAD}a=x\0\r\n`, 'bad-line', 5],
  ['a second v=', `${HEAD}v=0\r\n`, 'misplaced-line', 5],
  ['t= in a media section', `${HEAD}m=audio 9 RTP/AVP 0\r\nt=0 0\r\n`, 'misplaced-line', 6],
  ['m= without formats', `${HEAD}m=audio 9 RTP/AVP\r\n`, 'bad-media-line', 5],
  ['m= port too big', `${HEAD}m=audio 65536 RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['m= port not a number', `${HEAD}m=audio x RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['m= port with a leading zero', `${HEAD}m=audio 09 RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['m= double space', `${HEAD}m=audio 9  RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['m= port count 0', `${HEAD}m=audio 9/0 RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['m= two slashes', `${HEAD}m=audio 9/2/2 RTP/AVP 0\r\n`, 'bad-media-line', 5],
  ['a= empty', `${HEAD}a=\r\n`, 'bad-attribute', 5],
  ['a= name with a space', `${HEAD}a=bad name:x\r\n`, 'bad-attribute', 5],
  ['a= starting with a colon', `${HEAD}a=:x\r\n`, 'bad-attribute', 5],
];

for (const [name, text, code, line] of BAD) {
  t.test(`refuses ${name} with ${code} at line ${line}`, async (t) => {
    const r = parse(text);
    t.equal(r.ok, false);
    if (!r.ok) {
      t.equal(r.error.code, code);
      t.equal(r.error.line, line);
      t.type(r.error.message, 'string');
    }
  });
}

t.test('refuses text over maxLength', async (t) => {
  const r = parse(CHROMIUM_SIMULCAST_OFFER, { maxLength: 100 });
  t.same(r.ok ? undefined : [r.error.code, r.error.line], ['too-large', 0]);
  t.ok(parse(CHROMIUM_SIMULCAST_OFFER, { maxLength: CHROMIUM_SIMULCAST_OFFER.length }).ok);
});
