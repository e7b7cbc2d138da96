import { SfuServer, type SfuServerOptions } from '../sfu/sfu-server.js';
import type { Logger } from '../util/logger.js';
import { SMALL_SEMI_SPACE_FLAG, semiSpaceAdvice } from './node-flags.js';

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
 * Listens; a server that fails to start is closed (nothing left bound). Warns when node runs
 * without the small semi-space flag, unless `o.advise` is false (an SFU worker, whose primary
 * has warned once for all).
 */
export async function startSfuServer(
  options: SfuServerOptions,
  log: Logger,
  o: { advise?: boolean } = {},
): Promise<StartedSfu> {
  warnSemiSpace(log, o.advise);
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
