/**
 * Shared by the `rtcd sfu` CLI specs (spec/cli/sfu*.spec.ts): the one-line message of a
 * CliUsageError, and a hand-written browser-like WHIP/WHEP offer POSTed to a child process.
 */
import { CliUsageError } from '../../lib/cli/config.js';

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
