/**
 * Issue 7 "Bad input": malformed SDP to WHIP and WHEP gets a clear JSON error (400 `bad-sdp`
 * with the parser's reason, or 422 for a well-formed offer WebRTC cannot use) and leaves no
 * state: no ICE session on the mux, no endpoint, participant, room or resource. RFC 8829
 * §5.8 (what an answerer must reject), RFC 8122 §5 (fingerprint syntax), RFC 8839 §5.4
 * (ice-char credentials).
 */
import t from 'tap';
import { peerOffer, postSdp, startOpsSfu } from './ops-peer.js';

const { sfu, url, connect } = await startOpsSfu(t, { requestsPerSecond: 1000, requestBurst: 1000 });
await connect('/whip/live', [{ kind: 'audio', ssrc: 1 }]);

const publish = await peerOffer('sendonly', [{ kind: 'audio', ssrc: 5 }]);
const view = await peerOffer('recvonly', [{ kind: 'audio' }]);

type Case = [name: string, edit: (sdp: string) => string, status: number, code: string];
const CASES: Case[] = [
  ['an empty body', () => '', 400, 'bad-sdp'],
  ['text that is not SDP', () => 'hello, world', 400, 'bad-sdp'],
  ['binary junk', () => '\u0000\u00ff\u0010'.repeat(40), 400, 'bad-sdp'],
  ['no v= line', (s) => s.replace('v=0\r\n', ''), 400, 'bad-sdp'],
  ['a broken m= line', (s) => s.replace(/^m=(\w+) 9 \S+/m, 'm=$1 nine'), 400, 'bad-sdp'],
  ['no media section', (s) => s.slice(0, s.indexOf('m=')), 400, 'bad-sdp'],
  ['no fingerprint', (s) => s.replace(/a=fingerprint.*\r\n/, ''), 400, 'bad-sdp'],
  [
    'an unknown hash',
    (s) => s.replace('a=fingerprint:sha-256', 'a=fingerprint:md2'),
    400,
    'bad-sdp',
  ],
  [
    'a fingerprint that is not hex',
    (s) => s.replace(/(a=fingerprint:sha-256 )\S+/, '$1zz:zz'),
    400,
    'bad-sdp',
  ],
  [
    'a fingerprint of the wrong length',
    (s) => s.replace(/(a=fingerprint:sha-256 )\S+/, '$1AB:CD:EF'),
    400,
    'bad-sdp',
  ],
  ['no ICE ufrag', (s) => s.replace(/a=ice-ufrag.*\r\n/, ''), 400, 'bad-sdp'],
  [
    'a ufrag outside ice-chars',
    (s) => s.replace(/a=ice-ufrag:\S+/, 'a=ice-ufrag:a!b#c'),
    400,
    'bad-sdp',
  ],
  ['a=setup:holdconn', (s) => s.replace('a=setup:actpass', 'a=setup:holdconn'), 400, 'bad-sdp'],
  ['no rtcp-mux', (s) => s.replace('a=rtcp-mux\r\n', ''), 422, 'no-rtcp-mux'],
  ['no BUNDLE', (s) => s.replace(/a=group:BUNDLE.*\r\n/, ''), 422, 'no-bundle'],
];

for (const [kind, room, base] of [
  ['whip', 'fresh', publish],
  ['whep', 'live', view],
] as const) {
  t.test(`${kind.toUpperCase()}: malformed offers are refused and leave nothing`, async (t) => {
    const sessionsBefore = sfu.media().mux.counters().sessions;
    const participantsBefore = sfu.router.getRoom('live')?.participants.size;
    for (const [name, edit, status, code] of CASES) {
      const res = await postSdp(`${url}/${kind}/${room}`, edit(base));
      t.equal(res.status, status, `${name}: ${status}`);
      t.match(res.headers.get('content-type'), /^application\/json/, `${name}: JSON`);
      const body = (await res.json()) as { error: string; message: string };
      t.equal(body.error, code, `${name}: ${code} (${body.message})`);
      t.equal(sfu.media().mux.counters().sessions, sessionsBefore, `${name}: no ICE session`);
    }
    t.equal(sfu.router.getRoom('fresh'), undefined, 'no room was made');
    t.equal(sfu.router.getRoom('live')?.participants.size, participantsBefore, 'no one joined');
    t.equal(sfu.resources.size, 1, 'only the anchor session');
    t.same([...sfu.router.rooms.keys()], ['live']);
  });
}

t.test('each refusal is counted by code; the anchor keeps its session', async (t) => {
  const errors = sfu.stats().http.errors;
  t.ok((errors['bad-sdp'] ?? 0) >= 2 * 13, `bad-sdp ${errors['bad-sdp']}`);
  t.equal(errors['no-bundle'], 2);
  t.equal(sfu.stats().participants, 1);
  t.equal(sfu.stats().closed.refused, undefined, 'refused before any participant existed');
});
