/**
 * Shared by the `rtcd sfu` CLI specs (spec/cli/sfu*.spec.ts): the one-line message of a
 * CliUsageError, a child `rtcd signal` that SFUs link to, a child `rtcd sfu` started until its
 * listening line, and a hand-written browser-like WHIP/WHEP offer POSTed to a child process.
 */
import type { Test } from 'tap';
import { CliUsageError } from '../../lib/cli/config.js';
import { type Child, listeningPort, startRtcd, waitForOutput } from '../signal/child.js';

/** The one-line message of the CliUsageError `fn` throws. */
export function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliUsageError) return err.message;
    throw err;
  }
  throw new Error('expected a CliUsageError, nothing was thrown');
}

/**
 * Starts `rtcd signal` on a free port, without auth, taking SFU links that present `secret`
 * (`extra`: more flags); killed when `t` ends. Resolves with the child and its HTTP port.
 */
export async function startLinkSignal(
  t: Test,
  secret: string,
  extra: string[] = [],
): Promise<{ signal: Child; port: number }> {
  const signal = startRtcd([
    'signal',
    '--listen',
    '127.0.0.1:0',
    '--no-auth',
    '--sfu-secret',
    secret,
    ...extra,
  ]);
  t.teardown(() => {
    signal.kill('SIGKILL');
  });
  return { signal, port: await listeningPort(signal) };
}

/**
 * Starts `rtcd <args>` (killed when `t` ends) and waits for its `rtcd sfu listening` log line;
 * resolves with the child and that line parsed (T: the fields the spec reads).
 */
export async function startSfuChild<T extends { url: string } = { url: string }>(
  t: Test,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: Child; ready: T }> {
  const child = startRtcd(args, env);
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const ready = await waitForOutput(child, (out) => {
    const line = out.split('\n').find((l) => l.includes('rtcd sfu listening'));
    return line === undefined ? undefined : (JSON.parse(line) as T);
  });
  return { child, ready };
}

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

/**
 * A hand-written browser-like offer: one VP8 video section, BUNDLE, rtcp-mux; a sender's has
 * an SSRC. (bench/sfu/light-client.ts `benchOffer` differs: its own ice-pwd, rtcp-fb lines.)
 */
export function cliOffer(direction: 'sendonly' | 'recvonly', ufrag: string): string {
  return [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=fingerprint:sha-256 ${FP.join(':')}`,
    'a=setup:actpass',
    'a=mid:0',
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    ...(direction === 'sendonly' ? ['a=ssrc:4321 cname:cli'] : []),
    '',
  ].join('\r\n');
}

/** POSTs an SDP offer as `application/sdp`. */
export const postSdp = (url: string, body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body });
