import { SfuServer, type SfuServerOptions } from '../sfu/sfu-server.js';
import { ghashSimdAvailable } from '../srtp/ghash-simd.js';
import { enableEcbResultRelease } from '../srtp/keystream-runs.js';
import type { Logger } from '../util/logger.js';
import { applyHeapGrowing, SMALL_SEMI_SPACE_FLAG, semiSpaceAdvice } from './node-flags.js';

/** What a started SFU serves: the HTTP base URL (WHIP/WHEP) and its media UDP port. */
export interface StartedSfu {
  server: SfuServer;
  /** `http://host:port`, IPv6 hosts in brackets. */
  url: string;
  /** The bound HTTP port. */
  port: number;
  udpPort: number;
}

/**
 * What a process that forwards media sets for itself, once, before sessions are made: the
 * release of SRTP's ECB results (`enableEcbResultRelease`: on Node 20 a V8 flag for this
 * process, so the entry point's call, as the semi-space flag is the bin's; 5-11% less CPU per
 * protected packet there) and the old generation's headroom of `HEAP_GROWING_FLAG` unless
 * node was started with a `--heap-growing-percent` of its own (node-flags.ts: fewer full GCs
 * in forwarding). Returns what is on, with whether GHASH runs in WebAssembly SIMD. The SFU
 * bench's processes call it too, to measure what `rtcd sfu` runs.
 */
export function tuneForForwarding(): {
  ecbResultRelease: boolean;
  ghashSimd: boolean;
  heapGrowing: boolean;
} {
  return {
    ecbResultRelease: enableEcbResultRelease(),
    ghashSimd: ghashSimdAvailable(),
    heapGrowing: applyHeapGrowing(),
  };
}

/**
 * Listens; a server that fails to start is closed (nothing left bound). Warns when node runs
 * without the small semi-space flag, unless `o.advise` is false (an SFU worker, whose primary
 * has warned once for all). Tunes the process first (`tuneForForwarding`).
 */
export async function startSfuServer(
  options: SfuServerOptions,
  log: Logger,
  o: { advise?: boolean } = {},
): Promise<StartedSfu> {
  warnSemiSpace(log, o.advise);
  log.debug(tuneForForwarding(), 'sfu: SRTP crypto paths and heap headroom');
  const server = new SfuServer({ ...options, logger: log });
  let port: number;
  try {
    ({ port } = await server.listen());
  } catch (err) {
    await server.close().catch(() => {});
    throw err;
  }
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, url, port, udpPort: server.udpAddress?.port ?? options.udpPort ?? 0 };
}

/** The semi-space warning (node-flags.ts), once per process that forwards media. */
export function warnSemiSpace(log: Logger, advise = true): void {
  const advice = advise ? semiSpaceAdvice() : undefined;
  if (advice !== undefined) log.warn({ flag: SMALL_SEMI_SPACE_FLAG }, advice);
}
