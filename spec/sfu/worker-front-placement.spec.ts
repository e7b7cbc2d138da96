/**
 * `RoomPlacement`, the room map of `rtcd sfu --workers`: a room's first request goes to the
 * worker with the fewest sessions (held + in flight), later ones follow it while it has a
 * session or a request in flight, and it is forgotten only when both are none — including when
 * a worker's session-ended report overtakes the 201 that created the session. A worker that
 * goes takes its rooms and sessions with it.
 */
import t from 'tap';
import { RoomPlacement } from '../../lib/sfu/room-placement.js';

const R1 = '00000000-0000-4000-8000-000000000001';
const R2 = '00000000-0000-4000-8000-000000000002';
const R3 = '00000000-0000-4000-8000-000000000003';

t.test('first requests go to the least loaded worker; a room follows its worker', async (t) => {
  const p = new RoomPlacement();
  t.equal(p.begin('a'), undefined, 'no worker up: nowhere to go');
  t.equal(p.roomCount, 0, 'and nothing remembered');
  p.workerUp(0);
  p.workerUp(1);
  t.same(p.slots, [0, 1]);
  t.equal(p.begin('a'), 0, 'a tie goes to the lowest slot');
  t.equal(p.begin('b'), 1, 'slot 0 has a request in flight: b goes to 1');
  t.equal(p.begin('a'), 0, 'a second request of a follows it');
  p.finish('a', 0, R1);
  p.finish('a', 0, R2);
  p.finish('b', 1, R3);
  t.same(p.loadOf(0), { sessions: 2, pending: 0 });
  t.same(p.loadOf(1), { sessions: 1, pending: 0 });
  t.equal(p.begin('c'), 1, 'c goes to the worker with fewer sessions');
  p.finish('c', 1); // refused (e.g. 404): no session
  t.equal(p.slotOfRoom('c'), undefined, 'a room whose only request made no session is forgotten');
  t.equal(p.sessions, 3);
  t.equal(p.pending, 0);
  t.equal(p.slotOfResource(R2), 0);
});

t.test('a room is forgotten when its last session ends and nothing is in flight', async (t) => {
  const p = new RoomPlacement();
  p.workerUp(0);
  p.workerUp(1);
  p.finish('a', p.begin('a')!, R1);
  t.equal(p.slotOfRoom('a'), 0);
  const slot = p.begin('a')!; // a second session being answered
  p.ended(0, R1, 0);
  t.equal(p.slotOfRoom('a'), 0, 'kept: a request of the room is in flight to its worker');
  p.finish('a', slot, R2);
  p.ended(0, R2, 0);
  t.equal(p.slotOfRoom('a'), undefined, 'no session, nothing in flight: forgotten');
  t.equal(p.slotOfResource(R2), undefined);
  t.same(p.loadOf(0), { sessions: 0, pending: 0 });
  p.ended(1, R1, 0);
  t.equal(p.sessions, 0, 'a report of another worker for an unknown session changes nothing');
});

t.test('a session-ended report that overtakes its 201 cancels the session', async (t) => {
  const p = new RoomPlacement();
  p.workerUp(0);
  const slot = p.begin('a')!;
  p.ended(0, R1, 1000); // the IPC report came before the HTTP answer
  t.equal(p.slotOfRoom('a'), 0, 'the request is still in flight');
  p.finish('a', slot, R1);
  t.equal(p.sessions, 0, 'the session is not counted');
  t.equal(p.slotOfRoom('a'), undefined, 'and the room is forgotten');
  t.same(p.loadOf(0), { sessions: 0, pending: 0 });

  // A held report whose 201 never comes is dropped after a minute.
  p.ended(0, R2, 2000);
  p.sweep(61_999);
  const s = p.begin('b')!;
  p.sweep(62_001);
  p.finish('b', s, R2);
  t.equal(p.sessions, 1, 'swept: the late 201 counts its session again');
});

t.test('a worker that goes takes its rooms; its replacement starts empty', async (t) => {
  const p = new RoomPlacement();
  p.workerUp(0);
  p.workerUp(1);
  p.finish('a', p.begin('a')!, R1);
  p.finish('b', p.begin('b')!, R2);
  const inFlight = p.begin('b')!;
  t.equal(inFlight, 1);
  p.workerDown(1);
  t.same(p.slots, [0]);
  t.equal(p.slotOfRoom('b'), undefined, 'b is gone with its worker');
  t.equal(p.slotOfResource(R2), undefined);
  p.finish('b', inFlight, R3); // the answer of the dead worker's request: ignored
  t.equal(p.sessions, 1);
  t.equal(p.begin('b'), 0, 'b is placed again, on a live worker');
  p.workerUp(1);
  t.same(p.loadOf(1), { sessions: 0, pending: 0 }, 'the replacement holds nothing');
  t.equal(p.begin('c'), 1, 'and takes the next new room');
  t.equal(p.loadOf(7), undefined, 'no such slot');
});

t.test('a room open on a worker already (a linked room) draws its requests there', async (t) => {
  const p = new RoomPlacement();
  p.workerUp(0);
  p.workerUp(1);
  p.finish('busy', p.begin('busy')!, R1); // worker 0 has a session: new rooms go to 1 …
  p.roomOpened(0, 'linked'); // … but worker 0's router holds room "linked"
  t.equal(p.begin('linked'), 0, 'WHIP of a room open on a worker goes to that worker');
  t.equal(p.begin('fresh'), 1, 'other new rooms still go to the least loaded');
  p.roomClosed(1, 'linked');
  t.equal(p.slotOfRoom('linked'), 0, 'a close reported by another worker changes nothing');
  p.finish('linked', 0);
  p.finish('fresh', 1);
  p.roomClosed(0, 'linked');
  t.equal(p.begin('linked'), 1, 'closed there: placed by load again');
  p.roomOpened(1, 'gone');
  p.workerDown(1);
  p.roomOpened(1, 'late'); // a report from a worker that is not up: ignored
  t.equal(p.begin('gone'), 0, 'a dead worker’s rooms do not draw requests');
  t.equal(p.begin('late'), 0);
});
