/**
 * `WorkerRoomService` over a `RoomPlacement` (no processes): room peers of `rtcd signal` are
 * placed with the WHIP/WHEP rooms — a peer joining a room a WHIP publisher opened goes to that
 * publisher's worker, and WHIP of a room peers opened goes to theirs — each peer counts as one
 * session in the least-loaded choice and the `maxSessions` cap (a join beyond: `sfu-limit`),
 * calls reach the peer's worker in order, what a worker says reaches only its own peers, and
 * the peers of a worker that goes hear `sfu-unavailable` and are joined afresh elsewhere.
 */
import t from 'tap';
import { RoomPlacement } from '../../lib/sfu/room-placement.js';
import { type WorkerRoomCall, WorkerRoomService } from '../../lib/sfu/worker-rooms.js';
import type { SfuServerMessage } from '../../lib/signal/room-service.js';

const R1 = '00000000-0000-4000-8000-000000000001';

function setup(maxSessions = 100) {
  const placement = new RoomPlacement();
  const calls: [number, WorkerRoomCall][] = [];
  const told: [string, SfuServerMessage][] = [];
  const rooms = new WorkerRoomService({
    placement,
    maxSessions,
    send: (slot, call) => calls.push([slot, call]),
  });
  rooms.attach((peerId, m) => told.push([peerId, m]));
  return { placement, rooms, calls, told };
}

t.test('room peers and WHIP publishers of one name meet on one worker', async (t) => {
  const { placement: p, rooms, calls } = setup();
  t.notOk(rooms.available(), 'no worker up: unavailable');
  p.workerUp(0);
  p.workerUp(1);
  t.ok(rooms.available());
  // WHIP first: room x on worker 0 (both empty, lowest wins); its session counts there.
  p.finish('x', p.begin('x')!, R1);
  // A peer of x joins: worker 0 too, though worker 1 is less loaded.
  rooms.join('x', 'p1');
  t.same(calls.at(-1), [0, { op: 'join', room: 'x', peerId: 'p1' }]);
  t.same(p.loadOf(0), { sessions: 2, pending: 0 }, 'the peer counts as a session');
  t.equal(p.sessions, 2);
  // A new room of peers goes to the least loaded worker, and WHIP of it follows them.
  rooms.join('y', 'p2');
  t.same(calls.at(-1), [1, { op: 'join', room: 'y', peerId: 'p2' }]);
  t.equal(p.begin('y'), 1, 'WHIP of a room peers opened goes to their worker');
  p.finish('y', 1);
  rooms.message('y', 'p2', { type: 'set-layer', trackId: 't', layer: 0 });
  t.same(calls.at(-1), [
    1,
    {
      op: 'message',
      room: 'y',
      peerId: 'p2',
      message: { type: 'set-layer', trackId: 't', layer: 0 },
    },
  ]);
  rooms.join('y', 'p2');
  t.equal(calls.length, 3, 'joining its own room again: nothing');
  // Moving rooms: leave there, join here.
  rooms.join('x', 'p2');
  t.same(calls.slice(-2), [
    [1, { op: 'leave', room: 'y', peerId: 'p2' }],
    [0, { op: 'join', room: 'x', peerId: 'p2' }],
  ]);
  t.equal(p.slotOfRoom('y'), undefined, 'y emptied: forgotten');
  rooms.leave('x', 'p1');
  rooms.leave('x', 'nobody');
  t.same(calls.at(-1), [0, { op: 'leave', room: 'x', peerId: 'p1' }]);
  t.equal(p.sessions, 2, 'the WHIP session and p2');
  t.equal(p.peerCount, 1);
});

t.test('peers count toward maxSessions; beyond it a join gets sfu-limit', async (t) => {
  const { placement: p, rooms, calls, told } = setup(2);
  p.workerUp(0);
  p.workerUp(1);
  rooms.join('a', 'p1');
  rooms.join('b', 'p2');
  t.same(
    calls.map(([slot]) => slot),
    [0, 1],
    'peers spread by load',
  );
  t.equal(p.sessions + p.pending, 2, 'the front’s WHIP cap sees them');
  rooms.join('a', 'p3');
  t.same(told, [
    ['p3', { type: 'error', code: 'sfu-limit', message: '2 sessions held', ref: 'join' }],
  ]);
  t.equal(calls.length, 2, 'no worker hears of it');
  rooms.message('a', 'p3', { type: 'publish', sdp: 'v=0' });
  t.match(told.at(-1), ['p3', { code: 'sfu-bad-state', ref: 'publish' }]);
  rooms.leave('b', 'p2');
  rooms.join('a', 'p3');
  t.same(calls.at(-1), [0, { op: 'join', room: 'a', peerId: 'p3' }], 'room again: it joins');
});

t.test('what a worker says reaches its own peers only', async (t) => {
  const { placement: p, rooms, told } = setup();
  p.workerUp(0);
  p.workerUp(1);
  rooms.join('a', 'p1');
  const answer: SfuServerMessage = { type: 'publish-answer', sdp: 'v=0' };
  rooms.fromWorker(0, 'p1', answer);
  rooms.fromWorker(1, 'p1', answer);
  rooms.fromWorker(0, 'stranger', answer);
  t.same(told, [['p1', answer]]);
});

t.test('a worker that goes: its peers hear sfu-unavailable and join afresh', async (t) => {
  const { placement: p, rooms, calls, told } = setup();
  p.workerUp(0);
  p.workerUp(1);
  rooms.join('a', 'p1');
  rooms.join('a', 'p2');
  rooms.join('b', 'p3');
  calls.length = 0;
  rooms.workerLost(p.workerDown(0));
  t.same(
    told.map(([id, m]) => [id, m.type === 'error' ? m.code : m.type]),
    [
      ['p1', 'sfu-unavailable'],
      ['p2', 'sfu-unavailable'],
    ],
  );
  t.same(calls, [
    [1, { op: 'join', room: 'a', peerId: 'p1' }],
    [1, { op: 'join', room: 'a', peerId: 'p2' }],
  ]);
  t.equal(p.slotOfRoom('a'), 1);
  // No worker at all: peers wait, messages get sfu-unavailable, the next worker takes them.
  calls.length = 0;
  told.length = 0;
  rooms.workerLost(p.workerDown(1));
  t.notOk(rooms.available());
  t.equal(calls.length, 0);
  t.equal(told.length, 3, 'three peers told');
  rooms.message('a', 'p1', { type: 'publish', sdp: 'v=0' });
  t.match(told.at(-1), ['p1', { code: 'sfu-unavailable', ref: 'publish' }]);
  rooms.leave('b', 'p3');
  rooms.join('c', 'p4');
  t.match(told.at(-1), ['p4', { code: 'sfu-unavailable', ref: 'join' }]);
  p.workerUp(0);
  rooms.workerUp();
  t.same(calls, [
    [0, { op: 'join', room: 'a', peerId: 'p1' }],
    [0, { op: 'join', room: 'a', peerId: 'p2' }],
    [0, { op: 'join', room: 'c', peerId: 'p4' }],
  ]);
  t.equal(p.peerCount, 3, 'p3 left while waiting');
  rooms.workerUp();
  t.equal(calls.length, 3, 'nobody waits any more');
});

t.test(
  'peers waiting for a worker count toward maxSessions (no worker up: still finite)',
  async (t) => {
    const { rooms, told } = setup(2);
    rooms.join('a', 'p1');
    rooms.join('a', 'p2');
    t.same(
      told.map(([peer, m]) => [peer, m.type === 'error' ? m.code : m.type]),
      [
        ['p1', 'sfu-unavailable'],
        ['p2', 'sfu-unavailable'],
      ],
      'both wait for a worker',
    );
    rooms.join('a', 'p3');
    t.match(told.at(-1), ['p3', { code: 'sfu-limit', ref: 'join' }], 'beyond the cap');
    rooms.leave('a', 'p1');
    rooms.join('a', 'p3');
    t.match(told.at(-1), ['p3', { code: 'sfu-unavailable' }], 'a place freed by a leave');
  },
);
