/**
 * File transfer on the call page: a several-MB file picked in one context crosses the `file`
 * data channel in 16 KiB chunks with backpressure, and the receiving page checks its SHA-256
 * (crypto.subtle) against the one announced by the sender, then acknowledges.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import {
  BROWSER_TOOLS,
  closeChromium,
  connected,
  openParticipant,
  sharedChromium,
  startSignal,
} from '../helpers/signal-page.js';
import { requireTools, toolOptions } from '../interop/tools.js';

const site = startSignal();
t.teardown(async () => {
  await closeChromium();
  await (await site).close();
});

const SIZE = 6 * 1024 * 1024 + 12_345; // not a whole number of chunks
/** The page's high-water mark (web/app/file-transfer.ts) plus one chunk of slack. */
const BUFFER_BOUND = 1024 * 1024 + 16 * 1024;

t.test(
  'a several-MB file arrives intact, checksum verified on both ends',
  toolOptions(BROWSER_TOOLS),
  async (t) => {
    if (!requireTools(t, BROWSER_TOOLS)) return;
    const { origin } = await site;
    const room = 'e2e-file';
    // No camera: the transfer alone competes for the two CPUs.
    const alice = await openParticipant(await sharedChromium(), origin, room, { video: '0' });
    t.teardown(() => alice.close());
    const bob = await openParticipant(await sharedChromium(), origin, room, { video: '0' });
    t.teardown(() => bob.close());
    const [a, b] = await connected(alice, bob);

    const content = randomBytes(SIZE);
    const sha256 = createHash('sha256').update(content).digest('hex');
    await alice.page.setInputFiles('#file-input', {
      name: 'payload.bin',
      mimeType: 'application/octet-stream',
      buffer: content,
    });

    const got = await bob.until(
      'file received',
      (s) => s.transfers.some((x) => x.direction === 'receive' && x.done),
      40_000,
    );
    const received = got.transfers.find((x) => x.direction === 'receive');
    t.match(
      received,
      { peerId: a, name: 'payload.bin', size: SIZE, bytes: SIZE, sha256, verified: true },
      'bob got every byte and his SHA-256 matches the file’s',
    );
    const sent = await alice.until('ack', (s) =>
      s.transfers.some((x) => x.direction === 'send' && x.verified !== undefined),
    );
    const out = sent.transfers.find((x) => x.direction === 'send');
    t.match(out, { peerId: b, bytes: SIZE, verified: true }, 'alice heard the checksum matched');
    t.ok(
      (out?.peakBuffered ?? Infinity) <= BUFFER_BOUND,
      `backpressure kept the send buffer at ${out?.peakBuffered} bytes`,
    );
    const status = await bob.page.textContent('#transfers .status');
    t.equal(status, 'checksum ok', 'the page shows the verdict');
  },
);
