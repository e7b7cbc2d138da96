import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What `/metrics` serves: a prom-client `Registry` fits, and so does a cluster aggregate. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port; read the real one from `address`. */
  port: number;
  registry: MetricsSource;
  /** `/healthz` answers 503 `draining` while this returns false. Default: always healthy. */
  healthy?: () => boolean;
}

export interface OpsServer {
  /** The bound address (the real port when `port` was 0). */
  readonly address: { host: string; port: number };
  /** Stops listening and closes idle keep-alive connections (Prometheus keeps one open). */
  close(): Promise<void>;
}

/**
 * The operations HTTP listener of a role: `GET /metrics` (Prometheus text format) and
 * `GET /healthz` (200 `{"status":"ok"}`, or 503 `{"status":"draining"}` so a load balancer
 * stops sending new clients while the server drains). Everything else is a JSON 404 or 405.
 * It is meant for a private interface: it has no authentication.
 */
export function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const healthy = o.healthy ?? (() => true);
  const server = createServer((req, res) => {
    handle(req, res, o.registry, healthy).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) json(res, 500, { error: 'internal', message });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: { host: a.address, port: a.port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

const ROUTES: Record<string, true> = { '/metrics': true, '/healthz': true };

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: MetricsSource,
  healthy: () => boolean,
): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (ROUTES[path] !== true) {
    json(res, 404, { error: 'not-found' });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    json(res, 405, { error: 'method-not-allowed' });
    return;
  }
  if (path === '/healthz') {
    if (healthy()) json(res, 200, { status: 'ok' });
    else json(res, 503, { status: 'draining' });
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
