/** rid (RFC 8851 §10) and simulcast (RFC 8853 §5.1) both ways. */
import t from 'tap';
import {
  formatRid,
  formatSimulcast,
  parse,
  parseSimulcast,
  ridsOf,
  type SdpLine,
  simulcastOf,
} from '../../lib/sdp/index.js';
import { CHROMIUM_SIMULCAST_OFFER, HANDWRITTEN_OFFER } from '../helpers/sdp-captures.js';

const a = (value: string): SdpLine => ({ type: 'a', value });

t.test('Chromium sendEncodings become three send rids and one simulcast stream list', async (t) => {
  const r = parse(CHROMIUM_SIMULCAST_OFFER);
  if (!r.ok) throw new Error('parse failed');
  const video = r.value.media[1]!;
  t.same(ridsOf(video.lines), [
    { id: 'q', direction: 'send', restrictions: [] },
    { id: 'h', direction: 'send', restrictions: [] },
    { id: 'f', direction: 'send', restrictions: [] },
  ]);
  t.same(simulcastOf(video.lines), {
    send: [
      [{ rid: 'q', paused: false }],
      [{ rid: 'h', paused: false }],
      [{ rid: 'f', paused: false }],
    ],
  });
  t.equal(simulcastOf(r.value.media[0]!.lines), undefined);
});

t.test('restrictions, pt lists, alternatives and paused streams', async (t) => {
  const r = parse(HANDWRITTEN_OFFER);
  if (!r.ok) throw new Error('parse failed');
  const lines = r.value.media[1]!.lines;
  const rids = ridsOf(lines);
  t.same(rids[0], {
    id: 'lo',
    direction: 'recv',
    payloadTypes: [96, 98],
    restrictions: [
      ['max-width', '320'],
      ['max-height', '180'],
    ],
  });
  t.equal(formatRid(rids[0]!), 'lo recv pt=96,98;max-width=320;max-height=180');
  t.equal(formatRid(rids[2]!), 'hi recv');
  const sim = simulcastOf(lines);
  t.same(sim, {
    recv: [
      [{ rid: 'lo', paused: false }],
      [
        { rid: 'mid', paused: true },
        { rid: 'hi', paused: false },
      ],
    ],
    send: [[{ rid: 'x', paused: false }]],
  });
  t.equal(formatSimulcast(sim!), 'send x recv lo;~mid,hi');
});

const BAD_RIDS = [
  'rid:q',
  'rid:q both',
  'rid:q send pt=abc',
  'rid:q send pt=128',
  'rid:b@d send',
  'rid:q send max-width=1 extra',
  'rid:q send ;',
];
for (const v of BAD_RIDS) {
  t.test(`a=${v} is not a rid`, async (t) => t.same(ridsOf([a(v)]), []));
}

const BAD_SIMULCAST = [
  'send',
  'send q;h recv',
  'send q send h',
  'sideways q',
  'send q;;h',
  'send ~',
  'send q h',
];
for (const v of BAD_SIMULCAST) {
  t.test(`a=simulcast:${v} is refused`, async (t) => t.equal(parseSimulcast(v), undefined));
}

t.test('simulcast formats round-trip', async (t) => {
  for (const v of ['send 1;2;3', 'recv a,~b;c', 'send x recv y', 'recv ~a']) {
    t.equal(formatSimulcast(parseSimulcast(v)!), v);
  }
});
