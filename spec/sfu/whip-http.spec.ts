/**
 * RFC 9725 (WHIP) and WHEP over HTTP, without a browser: the status codes and JSON error
 * bodies of SfuServer (201 + Location, 400, 404, 405, 413, 415, 422), CORS preflight, DELETE ending
 * the session, and that a refused offer leaves no room, participant or resource behind.
 */
import t, { type Test } from 'tap';
import { startSfu } from '../helpers/sfu-fixture.js';

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

function offer(o: { direction: string; ssrc?: number; bundle?: boolean; ufrag?: string }) {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    ...(o.bundle === false ? [] : ['a=group:BUNDLE 0']),
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${o.ufrag ?? 'abcd'}`,
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=fingerprint:sha-256 ${FP.join(':')}`,
    'a=setup:actpass',
    'a=mid:0',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    `a=${o.direction}`,
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 nack pli',
    'a=rtpmap:97 rtx/90000',
    'a=fmtp:97 apt=96',
    ...(o.ssrc === undefined ? [] : [`a=ssrc:${o.ssrc} cname:x`]),
    '',
  ].join('\r\n');
}

const { sfu, url } = await startSfu(t);

const post = (path: string, body: string, type = 'application/sdp') =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });

async function error(t: Test, res: Response, status: number, code: string): Promise<void> {
  t.equal(res.status, status, `status ${status}`);
  t.match(res.headers.get('content-type'), /application\/json/);
  const body = (await res.json()) as { error: string; message: string };
  t.equal(body.error, code, `error ${code}`);
  t.type(body.message, 'string');
}

t.test('RFC 9725 §4.2: POST an offer → 201, answer, Location; DELETE ends it', async (t) => {
  const res = await post('/whip/r1', offer({ direction: 'sendonly', ssrc: 1234 }));
  t.equal(res.status, 201);
  t.equal(res.headers.get('content-type'), 'application/sdp');
  const location = res.headers.get('location') ?? '';
  t.match(location, /^\/resource\//);
  const answer = await res.text();
  t.match(answer, /a=recvonly/);
  t.match(answer, /a=rtpmap:96 VP8\/90000/, 'the offered payload type is kept');
  t.match(answer, /\r\na=candidate:\d+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'RFC 8839 candidate');
  t.notMatch(answer, /candidate:candidate:/, 'the attribute name is written once');
  const [producer] = [...(sfu.router.getRoom('r1')?.producers() ?? [])];
  t.equal(producer?.payloadType, 96);
  t.equal(producer?.rtxPayloadType, 97);
  t.equal(producer?.layers[0]?.ssrc, 1234, 'the producer is keyed by the offered SSRC');

  const view = await post('/whep/r1', offer({ direction: 'recvonly', ufrag: 'efgh' }));
  t.equal(view.status, 201);
  const viewAnswer = await view.text();
  t.match(viewAnswer, /a=sendonly/);
  t.match(viewAnswer, /a=msid:rtcd-r1 /, 'the track is announced');
  const ssrc = Number(/a=ssrc:(\d+) cname/.exec(viewAnswer)?.[1]);
  t.ok(ssrc > 0 && ssrc !== 1234, 'the viewer gets its own SSRC');
  t.equal(sfu.resources.size, 2);

  const del = await fetch(`${url}${location}`, { method: 'DELETE' });
  t.equal(del.status, 200);
  t.equal(producer?.closed, true, 'DELETE closes the producer');
  t.equal(sfu.resources.size, 1);
  const viewLocation = view.headers.get('location') ?? '';
  t.equal((await fetch(`${url}${viewLocation}`, { method: 'DELETE' })).status, 200);
  t.equal(sfu.router.getRoom('r1'), undefined, 'the empty room is closed');
  await error(t, await fetch(`${url}${location}`, { method: 'DELETE' }), 404, 'no-such-resource');
});

t.test('errors: 415, 400, 404, 405, 422 with JSON bodies and no state', async (t) => {
  await error(
    t,
    await post('/whip/r2', offer({ direction: 'sendonly' }), 'text/plain'),
    415,
    'unsupported-media-type',
  );
  await error(t, await post('/whip/r2', 'not sdp'), 400, 'bad-sdp');
  await error(t, await post('/whip/r2', 'x'.repeat(70_000)), 413, 'too-large');
  await error(
    t,
    await post('/whip/r2', offer({ direction: 'sendonly', bundle: false })),
    422,
    'no-bundle',
  );
  await error(
    t,
    await post('/whip/r2', offer({ direction: 'recvonly' })),
    422,
    'nothing-published',
  );
  await error(t, await post('/whep/r2', offer({ direction: 'recvonly' })), 404, 'no-such-room');
  await error(t, await post('/nope', 'x'), 404, 'not-found');
  await error(t, await fetch(`${url}/whip/r2`), 405, 'method-not-allowed');
  t.equal(sfu.router.getRoom('r2'), undefined, 'no room was created');
  t.equal(sfu.resources.size, 0, 'no session was kept');

  t.ok((await post('/whip/r3', offer({ direction: 'sendonly', ssrc: 7 }))).status === 201);
  await error(t, await post('/whep/r3', offer({ direction: 'sendonly' })), 422, 'nothing-to-view');
  t.equal(sfu.router.getRoom('r3')?.participants.size, 1, 'the refused viewer did not join');
});

t.test('an offer the router refuses (one SSRC in two sections) → 422, no room left', async (t) => {
  const sessions = sfu.resources.size;
  const one = offer({ direction: 'sendonly', ssrc: 42 });
  const m = one.indexOf('m=video');
  const two = `${one.replace('BUNDLE 0', 'BUNDLE 0 1')}${one.slice(m).replace('a=mid:0', 'a=mid:1')}`;
  await error(t, await post('/whip/r5', two), 422, 'SFU_ERR_DUPLICATE');
  t.equal(sfu.router.getRoom('r5'), undefined, 'the room created for it is closed again');
  t.equal(sfu.resources.size, sessions, 'no session was kept');
});

t.test('CORS: a browser page on another origin may POST and read Location', async (t) => {
  const res = await fetch(`${url}/whip/r4`, { method: 'OPTIONS' });
  t.equal(res.status, 204);
  t.equal(res.headers.get('access-control-allow-origin'), '*');
  t.match(res.headers.get('access-control-allow-methods'), /POST/);
  t.match(res.headers.get('access-control-allow-headers'), /content-type/);
  const post201 = await post('/whip/r4', offer({ direction: 'sendonly', ssrc: 9 }));
  t.match(post201.headers.get('access-control-expose-headers'), /location/);
});
