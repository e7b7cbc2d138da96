/**
 * Answering simulcast (RFC 8853 §5.3) with rids (RFC 8851 §4, §5): `a=simulcast:send` becomes
 * `recv` with the offered streams in order (or the answerer's chosen subset), each received
 * rid gets `a=rid:<id> recv` with the restrictions we understand, nothing else is answered.
 */
import t from 'tap';
import {
  type AnswerOptions,
  createAnswer,
  KNOWN_RID_RESTRICTIONS,
  type MediaAnswerChoice,
  parse,
  type Rid,
  ridRestriction,
  ridsOf,
  type SessionDescription,
  serialize,
  simulcastOf,
} from '../../lib/sdp/index.js';
import { CHROMIUM_RID_SIMULCAST_OFFER } from '../helpers/simulcast-captures.js';

const OPTIONS: AnswerOptions = {
  ice: { ufrag: 'uf', pwd: 'passwordpasswordpassword' },
  fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }],
  sessionId: '1',
};

function offerWith(lines?: readonly string[]): SessionDescription {
  const r = parse(CHROMIUM_RID_SIMULCAST_OFFER);
  if (!r.ok) throw new Error('parse failed');
  const m = r.value.media[0]!;
  if (lines !== undefined) {
    m.lines = m.lines.filter((l) => !/^(rid|simulcast):/.test(l.value));
    for (const value of lines) m.lines.push({ type: 'a', value });
  }
  return r.value;
}

function answerText(offer: SessionDescription, choice: MediaAnswerChoice = {}): string {
  const r = createAnswer(offer, { ...OPTIONS, media: () => choice });
  if (!r.ok) throw new Error(r.error.message);
  return serialize(r.value);
}

const ridLines = (text: string) => text.split('\r\n').filter((l) => /^a=(rid|simulcast):/.test(l));

t.test('Chromium’s three send rids are answered recv, in order', async (t) => {
  t.same(ridLines(answerText(offerWith())), [
    'a=rid:l recv',
    'a=rid:m recv',
    'a=rid:h recv',
    'a=simulcast:recv l;m;h',
  ]);
});

t.test('the answerer’s choice: a subset of streams, rid lines in the a=rid order', async (t) => {
  const text = answerText(offerWith(), {
    simulcastRecv: [[{ rid: 'h', paused: false }], [{ rid: 'l', paused: true }]],
  });
  t.same(ridLines(text), ['a=rid:l recv', 'a=rid:h recv', 'a=simulcast:recv h;~l']);
  const none = answerText(offerWith(), { simulcastRecv: [[{ rid: 'nope', paused: false }]] });
  t.same(ridLines(none), [], 'no stream left: no rid and no simulcast line');
});

t.test('restrictions we do not understand are removed, known ones kept', async (t) => {
  const text = answerText(
    offerWith([
      'rid:a send max-width=640;x-vendor=7;max-fps=30;depend=b',
      'rid:b send max-br=100000;max-pps=900;max-bpp=1.5;max-fs=3600;max-height=360',
      'simulcast:send a;b',
    ]),
  );
  t.same(ridLines(text), [
    'a=rid:a recv max-width=640;max-fps=30',
    'a=rid:b recv max-br=100000;max-pps=900;max-bpp=1.5;max-fs=3600;max-height=360',
    'a=simulcast:recv a;b',
  ]);
});

t.test('repeated and undeclared rids, recv rids and rids without simulcast', async (t) => {
  t.same(
    ridLines(answerText(offerWith(['rid:a send', 'rid:a send', 'simulcast:send a;a,x']))),
    ['a=rid:a recv', 'a=simulcast:recv a'],
    'a rid counts once; x has no a=rid line',
  );
  t.same(
    ridLines(answerText(offerWith(['rid:a recv', 'rid:b send', 'simulcast:send a;b']))),
    ['a=rid:b recv', 'a=simulcast:recv b'],
    'a recv rid of the offer is not one we receive',
  );
  t.same(
    ridLines(answerText(offerWith(['rid:a send', 'rid:b send']))),
    [],
    'rids without a=simulcast are not answered',
  );
  t.same(
    ridLines(answerText(offerWith(), { direction: 'inactive' })),
    [],
    'nothing when we do not receive',
  );
});

t.test('the answer parses back to the same simulcast', async (t) => {
  const r = parse(answerText(offerWith()));
  if (!r.ok) throw new Error('parse failed');
  const m = r.value.media[0]!;
  t.same(
    simulcastOf(m.lines)?.recv?.map((s) => s.map((a) => a.rid)),
    [['l'], ['m'], ['h']],
  );
  t.same(
    ridsOf(m.lines).map((x) => x.direction),
    ['recv', 'recv', 'recv'],
  );
});

t.test(
  'ridRestriction reads numbers; KNOWN_RID_RESTRICTIONS is RFC 8851 §5 less depend',
  async (t) => {
    const rid: Rid = {
      id: 'a',
      direction: 'send',
      restrictions: [
        ['max-width', '1280'],
        ['max-bpp', '0.5'],
        ['max-br', 'lots'],
        ['max-fps', ''],
      ],
    };
    t.equal(ridRestriction(rid, 'max-width'), 1280);
    t.equal(ridRestriction(rid, 'max-bpp'), 0.5);
    t.equal(ridRestriction(rid, 'max-br'), undefined, 'not a number');
    t.equal(ridRestriction(rid, 'max-fps'), undefined, 'empty');
    t.equal(ridRestriction(rid, 'max-height'), undefined, 'absent');
    t.same([...KNOWN_RID_RESTRICTIONS].sort(), [
      'max-bpp',
      'max-br',
      'max-fps',
      'max-fs',
      'max-height',
      'max-pps',
      'max-width',
    ]);
  },
);
