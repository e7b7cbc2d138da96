/**
 * The SFU's HTTP listener, shared by SfuServer (one process) and SfuWorkerFront (the front of
 * `rtcd sfu --workers`): request and header timeouts, the connection cap, and the base URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The limits the listener applies (resolved SfuServerLimits carry them). */
export interface HttpListenLimits {
  readonly port: number;
  readonly requestTimeoutMs: number;
  readonly maxConnections: number;
}

/**
 * Listens on `host:limits.port` with `handle` for every request (its rejection goes to
 * `fail`); resolves with the server, the bound port and the base URL (IPv6 hosts bracketed).
 */
export async function listenHttp(
  limits: HttpListenLimits,
  host: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  fail: (res: ServerResponse, err: unknown) => void,
): Promise<{ server: Server; url: string; port: number }> {
  const timeout = limits.requestTimeoutMs;
  const server = createServer(
    {
      requestTimeout: timeout,
      headersTimeout: timeout,
      // Node looks for requests past their timeout only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, timeout / 2),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => fail(res, err));
    },
  );
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(limits.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port };
}
