import { createHmac } from 'node:crypto';
import t from 'tap';
import { devBanner } from '../../lib/cli/dev-banner.js';
import { reusePortSupported } from '../../lib/cli/platform.js';
import { CredentialStore } from '../../lib/turn/credentials.js';

const input = {
  udp: 3478,
  tcp: 3479,
  password: 'pw-123',
  secret: 'sekrit',
  nowMs: 1_700_000_000_000,
};

t.test('the dev banner shows URLs, credentials and a paste-ready RTCIceServer', async (t) => {
  const text = devBanner(input);
  t.match(text, 'stun:127.0.0.1:3478');
  t.match(text, 'turn:127.0.0.1:3478?transport=udp');
  t.match(text, 'turn:127.0.0.1:3479?transport=tcp', 'TCP URL has the TCP port');
  t.match(text, /username +dev\n/);
  t.match(text, /password +pw-123\n/);
  t.match(text, /REST secret +sekrit\n/);
  const json = /RTCIceServer:\n\s*(\{[\s\S]*?\n\s*\})/.exec(text)?.[1];
  t.same(JSON.parse(json ?? 'null'), {
    urls: [
      'stun:127.0.0.1:3478',
      'turn:127.0.0.1:3478?transport=udp',
      'turn:127.0.0.1:3479?transport=tcp',
    ],
    username: 'dev',
    credential: 'pw-123',
  });
});

t.test('the example REST credential is valid for 24 h under the printed secret', async (t) => {
  const text = devBanner(input);
  const m = /REST example username (\d+):dev\n\s+password (\S+) {2}\(valid 24 h\)/.exec(text);
  t.ok(m, 'example present');
  const [, expiry, password] = m ?? [];
  const username = `${expiry}:dev`;
  t.equal(Number(expiry), input.nowMs / 1000 + 24 * 3600);
  // draft-uberti-behave-turn-rest: password = base64(HMAC-SHA1(secret, username))
  t.equal(password, createHmac('sha1', input.secret).update(username).digest('base64'));
  const store = new CredentialStore({ realm: 'rtcd', authSecrets: [input.secret] });
  t.match(store.lookup(username, input.nowMs), { ok: true, source: 'rest', user: 'dev' });
});

t.test('reusePort needs Node 22.12+ or 23.1+', async (t) => {
  const cases: [string, boolean][] = [
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
  ];
  for (const [node, want] of cases) t.equal(reusePortSupported({ node }), want, node);
});

t.test('with signaling, the banner leads with the page URL and the WebSocket', async (t) => {
  const text = devBanner({ ...input, signalPort: 8080 });
  t.match(text, /\n {2}Open +http:\/\/127\.0\.0\.1:8080\/\?room=dev /);
  t.match(text, /Signaling +ws:\/\/127\.0\.0\.1:8080\/ws /);
  t.ok(text.indexOf('Open') < text.indexOf('STUN'), 'the URL to open comes first');
  t.notMatch(devBanner(input), /Open|Signaling/, 'TURN alone prints no page');
  t.notMatch(text, /not built/);
  t.match(devBanner({ ...input, signalPort: 1, pageMissing: true }), /npm run build:web/);
});

t.test('with the SFU, the banner prints its WHIP and WHEP URLs', async (t) => {
  const text = devBanner({ ...input, signalPort: 8080, sfuPort: 8090 });
  t.match(text, /\n {2}WHIP +http:\/\/127\.0\.0\.1:8090\/whip\/ROOM /);
  t.match(text, /\n {2}WHEP +http:\/\/127\.0\.0\.1:8090\/whep\/ROOM /);
  t.match(text, /\n {2}SFU metrics +http:\/\/127\.0\.0\.1:8090\/metrics /, 'its /metrics');
  t.ok(text.indexOf('WHIP') < text.indexOf('STUN'), 'before the TURN block');
  t.notMatch(devBanner({ ...input, signalPort: 8080 }), /WHIP|WHEP|metrics/, 'no SFU, no URLs');
});
