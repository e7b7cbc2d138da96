/**
 * `rtcd signal --sfu-secret` and `rtcd sfu --workers 2 --signal-url` as real processes: the
 * primary links in once (one SFU to the signal node) and places each sfu room on a worker;
 * two browser peers (the web SDK's SfuRoom in Chromium) in one room decode each other's video
 * through the worker holding it, and a WHIP publisher of that room name joins it there.
 */
import t from 'tap';
import { cliOffer, postSdp, startLinkSignal } from '../helpers/cli-sfu.js';
import { fileChromium, poll, sdkPage } from '../helpers/sfu-room-page.js';
import { BROWSER_TOOLS, webRoot } from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';
import { startRtcd, stop, waitForOutput } from '../signal/child.js';

const chromium = fileChromium(t);

t.test(
  'two peers of an sfu room exchange media through a worker',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const secret = 'workers-link-secret';
    const { signal, port } = await startLinkSignal(t, secret, ['--web-root', await webRoot()]);
    const sfu = startRtcd(['sfu', '--listen', '127.0.0.1:0', '--udp-port', '0', '--workers', '2'], {
      RTCD_SIGNAL_URL: `ws://127.0.0.1:${port}/sfu`,
      RTCD_SIGNAL_SECRET: secret,
    });
    t.teardown(() => {
      sfu.kill('SIGKILL');
    });
    await waitForOutput(sfu, (out) =>
      out.includes('SFU linked to the signal server') ? true : undefined,
    );
    const linked = sfu
      .out()
      .split('\n')
      .filter((l) => l.includes('SFU linked to the signal server'))
      .map((l) => (JSON.parse(l) as { worker?: number }).worker);
    t.same(linked, [undefined], 'one link, from the primary (one SFU to the signal node)');

    const origin = `http://127.0.0.1:${port}`;
    const browser = await chromium();
    const a = await sdkPage(t, browser, origin);
    const b = await sdkPage(t, browser, origin);
    const idA = await a.evaluate<string>(`joinSfu('linked')`);
    const idB = await b.evaluate<string>(`joinSfu('linked')`);
    t.not(idA, idB, 'two peers');
    for (const [page, from] of [
      [a, idB],
      [b, idA],
    ] as const) {
      const frames = await poll(
        `video from ${from}`,
        () =>
          page.evaluate<number>(
            `(async () => { const v = room.tracks.find((x) => x.peerId === '${from}' && x.kind === 'video'); return v ? framesOf(v.trackId) : -1; })()`,
          ),
        (n) => n > 5,
        30_000,
      );
      t.ok(frames > 5, `decodes ${from}'s video (${frames} frames)`);
    }
    const listening = sfu
      .out()
      .split('\n')
      .find((l) => l.includes('rtcd sfu listening'));
    const url = (JSON.parse(listening ?? '{}') as { url: string }).url;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.match(metrics, /^rtcd_sfu_rooms 1$/m, 'the room is on one worker (summed over both)');
    t.match(metrics, /^rtcd_sfu_producers 4$/m, 'with both peers’ camera and microphone');
    // A WHIP publisher of the same room name joins the room on the worker that holds it, as
    // in one process (the worker reported the linked room to the front).
    const whip = await postSdp(`${url}/whip/linked`, cliOffer('sendonly', 'wlnk'));
    t.equal(whip.status, 201);
    await whip.text();
    const joined = await (await fetch(`${url}/metrics`)).text();
    t.match(joined, /^rtcd_sfu_rooms 1$/m, 'still one room: the WHIP publisher is in it');
    t.match(joined, /^rtcd_sfu_producers 5$/m);
    await a.evaluate('room.leave()');
    await b.evaluate('room.leave()');
    t.equal(await stop(sfu), 0, 'the SFU drains and exits 0');
    t.equal(await stop(signal), 0);
  },
);
