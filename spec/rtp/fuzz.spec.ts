import t from 'tap';
import {
  ExtensionElement,
  findExtension,
  type HeaderExtension,
  nextExtension,
  rewriteExtensionIds,
} from '../../lib/rtp/header-extensions.js';
import { RtpPacket, writeRtp } from '../../lib/rtp/rtp-packet.js';
import { decapsulateRtx, encapsulateRtx } from '../../lib/rtp/rtx.js';
import { fuzzSettings, Random } from '../helpers/prng.js';

const { seed, iterations } = fuzzSettings({ seed: 0x52545031, iterations: 120_000 });

interface Generated {
  bytes: Buffer;
  fields: { payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number };
  extensions: HeaderExtension[];
  payloadLength: number;
  padding: number;
}

function generate(r: Random): Generated {
  const twoByte = r.chance(0.3);
  const extensions: HeaderExtension[] = [];
  const count = r.int(5);
  for (let i = 0; i < count; i++) {
    const id = twoByte ? 1 + r.int(255) : 1 + r.int(14);
    const len = twoByte ? r.int(40) : 1 + r.int(16);
    extensions.push({ id, value: r.bytes(len) });
  }
  const fields = {
    payloadType: r.int(128),
    sequenceNumber: r.int(65536),
    timestamp: r.int(2 ** 32),
    ssrc: r.int(2 ** 32),
  };
  const padding = r.chance(0.2) ? 1 + r.int(255) : 0;
  const payloadLength = r.int(64);
  const out = Buffer.alloc(1024);
  const n = writeRtp(
    out,
    0,
    {
      ...fields,
      marker: r.chance(0.5),
      csrcs: Array.from({ length: r.int(4) }, () => r.int(2 ** 32)),
      extensions,
      extensionForm: twoByte ? 'two-byte' : undefined,
      padding,
    },
    r.bytes(payloadLength),
  );
  return { bytes: out.subarray(0, n), fields, extensions, payloadLength, padding };
}

function mutate(r: Random, b: Buffer): Buffer {
  const m = Buffer.from(b);
  const edits = 1 + r.int(4);
  for (let i = 0; i < edits && m.length > 0; i++) {
    const at = r.int(m.length);
    switch (r.int(4)) {
      case 0:
        m[at] = r.int(256);
        break;
      case 1:
        m[at] = m[at]! ^ (1 << r.int(8));
        break;
      case 2:
        return m.subarray(0, at);
      default:
        m[0] = (m[0]! & 0xc0) | r.int(64); // P, X and CC are where parsers go wrong
    }
  }
  return m;
}

// Everything a forwarding path does with a parsed packet; must never throw on any input.
function exercise(p: RtpPacket, r: Random, scratch: Buffer): void {
  const end = p.offset + p.length;
  if (p.payloadOffset + p.payloadLength + p.paddingLength !== end) {
    throw new Error('payload and padding do not end the packet');
  }
  const el = new ExtensionElement();
  let pos = 0;
  let guard = 0;
  while (pos >= 0) {
    pos = nextExtension(p, pos, el);
    if (pos >= 0 && el.offset + el.length > p.extensionOffset + p.extensionLength) {
      throw new Error('element past the extension block');
    }
    if (++guard > 2000) throw new Error('iteration does not end');
  }
  findExtension(p, r.int(16), el);
  p.getExtension(r.int(256));
  const map = new Uint8Array(256);
  for (let id = 1; id < 15; id++) map[id] = r.int(15);
  rewriteExtensionIds(p, map);
  void p.csrc(r.int(16));
  void [p.version, p.marker, p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc];
  const n = encapsulateRtx(p, scratch, 0, { ssrc: 1, payloadType: 97, sequenceNumber: 2 });
  const back = new RtpPacket();
  if (back.parse(scratch, 0, n) !== undefined) throw new Error('RTX of a valid packet is invalid');
  decapsulateRtx(back, scratch, 0, { ssrc: 3, payloadType: 96 });
}

t.test(`${iterations} random and mutated packets: nothing throws (seed ${seed})`, async (t) => {
  const r = new Random(seed);
  const view = new RtpPacket();
  const scratch = Buffer.alloc(4096);
  const reasons = new Map<string, number>();
  let accepted = 0;
  let roundTrips = 0;
  for (let i = 0; i < iterations; i++) {
    const g = generate(r);
    let input: Buffer;
    const kind = r.int(3);
    if (kind === 0) {
      input = g.bytes;
      const reason = view.parse(input);
      if (
        reason !== undefined ||
        view.payloadType !== g.fields.payloadType ||
        view.sequenceNumber !== g.fields.sequenceNumber ||
        view.timestamp !== g.fields.timestamp ||
        view.ssrc !== g.fields.ssrc ||
        view.payloadLength !== g.payloadLength ||
        view.paddingLength !== g.padding
      ) {
        t.fail(`iteration ${i}: a written packet does not parse back (${reason})`);
        return;
      }
      for (const e of g.extensions) {
        const el = new ExtensionElement();
        if (!findExtension(view, e.id, el)) {
          t.fail(`iteration ${i}: extension ${e.id} lost`);
          return;
        }
      }
      roundTrips++;
    } else {
      input = kind === 1 ? mutate(r, g.bytes) : r.bytes(r.int(80));
      if (kind === 2 && input.length > 0 && r.chance(0.5)) input[0] = 0x80 | r.int(64);
    }
    try {
      const reason = view.parse(input);
      if (reason === undefined) {
        accepted++;
        exercise(view, r, scratch);
      } else {
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    } catch (err) {
      t.fail(`iteration ${i} threw: ${String(err)}; input ${input.toString('hex')}`);
      return;
    }
  }
  t.ok(roundTrips > iterations / 4, `${roundTrips} packets written and parsed back`);
  t.ok(accepted > iterations / 3, `${accepted} accepted`);
  for (const reason of [
    'too-short',
    'bad-version',
    'csrc-overflow',
    'extension-truncated',
    'extension-overflow',
    'bad-padding',
    'padding-overflow',
  ]) {
    t.ok((reasons.get(reason) ?? 0) > 0, `some inputs were refused as ${reason}`);
  }
});
