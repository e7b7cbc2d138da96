/**
 * coturn's `turnserver` as a reference TURN server for the interop harness: the same tests run
 * against it and against rtcd, so a test that fails on both is a harness bug, not an rtcd bug.
 */
import { type Daemon, freePort, startDaemon, waitForStun } from '../interop/processes.js';

export interface CoturnOptions {
  realm: string;
  /** Static long-term users (`--user name:pass --lt-cred-mech`). */
  users?: Record<string, string>;
  /**
   * TURN REST API secret (`--use-auth-secret --static-auth-secret`). coturn then checks every
   * username against the secret only, so do not combine with `users` in one instance.
   */
  authSecret?: string;
  minPort: number;
  maxPort: number;
  /** Extra flags, e.g. `['--verbose']`. */
  extraArgs?: string[];
}

export interface CoturnProcess {
  readonly port: number;
  readonly daemon: Daemon;
  close(): Promise<void>;
}

/** Starts `turnserver` on 127.0.0.1 (UDP and TCP on one free port), relaying on 127.0.0.1. */
export async function startCoturn(o: CoturnOptions): Promise<CoturnProcess> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [
      '-n', // no configuration file
      '--listening-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--relay-ip=127.0.0.1',
      `--min-port=${o.minPort}`,
      `--max-port=${o.maxPort}`,
      `--realm=${o.realm}`,
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--no-rfc5780',
      '--log-file=stdout',
      '--simple-log',
      `--pidfile=/tmp/rtcd-interop-coturn-${process.pid}-${port}.pid`,
    ];
    if (o.authSecret !== undefined) {
      args.push('--use-auth-secret', `--static-auth-secret=${o.authSecret}`);
    } else {
      args.push('--lt-cred-mech');
    }
    for (const [name, pass] of Object.entries(o.users ?? {})) args.push(`--user=${name}:${pass}`);
    args.push(...(o.extraArgs ?? []));
    const daemon = startDaemon('turnserver', args);
    if (await waitForStun(port, 5000)) {
      return { port, daemon, close: () => daemon.stop() };
    }
    lastOutput = daemon.output();
    await daemon.stop();
  }
  throw new Error(`coturn turnserver did not start:\n${lastOutput.slice(-2000)}`);
}
