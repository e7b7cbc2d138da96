import { Command, CommanderError, Option } from 'commander';
import { SignalOptionsError } from '../signal/errors.js';
import { TurnOptionsError } from '../turn/resolve-options.js';
import { VERSION } from '../version.js';
import {
  CliUsageError,
  type ConfigSources,
  configPath,
  readConfigFile,
  resolveDevConfig,
  resolveSfuConfig,
  resolveSignalConfig,
  resolveTurnConfig,
} from './config.js';
import {
  devOptions,
  globalOptions,
  kebab,
  type OptionSpec,
  sfuOptions,
  signalOptions,
  turnOptions,
} from './option-spec.js';

/**
 * Exit codes: 0 success (and after a graceful drain), 1 a runtime failure (a port in use, an
 * unreadable certificate, a second signal while draining), 2 a usage error (unknown option or
 * config key, bad value). Every failure is one line on stderr starting with `rtcd: `.
 */
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

const TURN_HELP_AFTER = `
Every option can also come from the environment, as RTCD_ and the long option in UPPER_SNAKE
(RTCD_MAX_PORT=60000, RTCD_ALLOW_LOOPBACK_PEERS=true; repeatable options comma-separated:
RTCD_LISTEN="0.0.0.0:3478,[::]:3478"), or from the JSON file named by --config or RTCD_CONFIG,
keyed by the long option in camelCase (a repeatable option takes an array):
  {"listen": ["0.0.0.0:3478"], "user": ["alice:secret"], "maxPort": 60000, "logLevel": "warn"}
Precedence: flag > environment > config file > default. A repeatable option takes its whole
list from the highest source that sets it.

Signals: SIGTERM/SIGINT stop new allocations, drain up to --drain-timeout and exit 0 (a second
signal exits at once with 1); SIGHUP re-reads --cert and --key.
Exit codes: 0 success, 1 runtime failure (e.g. a port in use), 2 usage error.`;

/** Runs the CLI; `argv` as in `process.argv` (node, script, args…). Sets `process.exitCode`. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    const code = report(err);
    process.exitCode = code;
    // Nothing should be left running, but a half-started server must not keep us alive, nor
    // (when a parent forked us) the IPC channel to it.
    process.channel?.unref();
    if (code !== 0) setTimeout(() => process.exit(code), 2000).unref();
  }
}

const SIGNAL_HELP_AFTER = `
Options also come from RTCD_* variables (RTCD_JWT_SECRET=…, RTCD_AUTH=false,
RTCD_TURN_URL="turn:h:3478?transport=udp,turn:h:3478?transport=tcp") or the --config JSON file
({"listen": "0.0.0.0:8080", "jwtSecret": "…", "turnUrl": ["turn:h:3478"]}), as for rtcd turn.
Clients connect to ws://HOST:PORT/ws; the web client is at http://HOST:PORT/?room=NAME.
Signals: SIGTERM/SIGINT close every client with 1001 (they resume elsewhere) and exit 0.
Exit codes: 0 success, 1 runtime failure (e.g. a port in use, Redis unreachable), 2 usage error.`;

const SFU_HELP_AFTER = `
Publish with WHIP (RFC 9725): POST an SDP offer (Content-Type: application/sdp) to
http://HOST:PORT/whip/ROOM; view with WHEP: POST to http://HOST:PORT/whep/ROOM. The answer
comes back with 201 and a Location; DELETE that Location to end the session. All media uses
the one --udp-port; behind NAT set --announced-ip to the address clients reach.
Beyond its limits the SFU answers 503 (--max-sessions, --max-sessions-per-room), 429 with
Retry-After (--requests-per-second, --request-burst) or 408 (--request-timeout); GET /metrics
on the same port serves its Prometheus counters (--no-metrics: off).
With --signal-url it also serves that rtcd signal node's multi-party rooms (see rtcd --help).
--workers N runs N media processes, a room in one each, worker k on UDP --udp-port + k (open
the range); this process keeps the HTTP port, routes each room to its worker, sums /metrics.
Options also come from RTCD_* variables (RTCD_UDP_PORT=40000, RTCD_ANNOUNCED_IP=203.0.113.7)
or the --config JSON file ({"listen": "0.0.0.0:8090", "udpAddress": "0.0.0.0",
"announcedIp": ["203.0.113.7"]}), as for rtcd turn.
Signals: SIGTERM/SIGINT end every session and exit 0.
Exit codes: 0 success, 1 runtime failure (e.g. a port in use), 2 usage error.`;

const PROGRAM_HELP_AFTER = `
The roles run apart or together: rtcd turn (STUN/TURN), rtcd signal (rooms, the web client),
rtcd sfu (WHIP/WHEP and the media of multi-party rooms); rtcd dev runs all three on 127.0.0.1.
Multi-party rooms (session type sfu) reach the SFU through the signal server: start
  rtcd signal --sfu-secret S ...
  rtcd sfu --signal-url ws://SIGNAL_HOST:8080/sfu --signal-secret S ...
and the SFU keeps that link up (reconnecting; clients publish again after it comes back).
Run rtcd <command> --help for each command's options.`;

export function buildProgram(): Command {
  const program = new Command('rtcd')
    .description('Pure-TypeScript WebRTC infrastructure: STUN/TURN server, signaling server, SFU')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .addHelpText('after', PROGRAM_HELP_AFTER);
  addOptions(program, globalOptions);

  const turn = program
    .command('turn')
    .description('run the STUN/TURN server (UDP, TCP, TLS)')
    .addHelpText('after', TURN_HELP_AFTER)
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = resolveTurnConfig(sources(cmd));
      const { turnCommand } = await import('./turn-command.js');
      await turnCommand(cfg);
    });
  addOptions(turn, turnOptions);

  const signal = program
    .command('signal')
    .description('run the signaling server (WebSocket + HTTP API, rooms, JWT, TURN credentials)')
    .addHelpText('after', SIGNAL_HELP_AFTER)
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = resolveSignalConfig(sources(cmd));
      const { signalCommand } = await import('./signal-command.js');
      await signalCommand(cfg);
    });
  addOptions(signal, signalOptions);

  const sfu = program
    .command('sfu')
    .description('run the SFU: WHIP publish and WHEP view over HTTP, media on one UDP port')
    .addHelpText('after', SFU_HELP_AFTER)
    .action(async (_opts: unknown, cmd: Command) => {
      const cfg = resolveSfuConfig(sources(cmd));
      const { sfuCommand } = await import('./sfu-command.js');
      await sfuCommand(cfg);
    });
  addOptions(sfu, sfuOptions);

  const dev = program
    .command('dev')
    .description('run everything on 127.0.0.1 with generated credentials (development only)')
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals();
      const cfg = resolveDevConfig({ flags, env: process.env });
      const { devCommand } = await import('./dev-command.js');
      await devCommand(cfg);
    });
  addOptions(dev, devOptions);
  return program;
}

function addOptions(cmd: Command, specs: Record<string, OptionSpec>): void {
  for (const [key, spec] of Object.entries(specs)) {
    const long = `--${kebab(key)}`;
    if (spec.switch) {
      cmd.addOption(new Option(long, spec.help));
      cmd.addOption(new Option(`--no-${kebab(key)}`, `turn ${long} off`).hideHelp());
      continue;
    }
    const option = new Option(`${long} ${spec.arg}`, spec.help);
    // Values stay strings here: config.ts parses flags, variables and the file alike.
    if (spec.repeatable) {
      option.argParser((value: string, previous: string[] | undefined) => [
        ...(previous ?? []),
        value,
      ]);
    }
    cmd.addOption(option);
  }
}

function sources(cmd: Command): ConfigSources {
  const flags = cmd.optsWithGlobals();
  const env = process.env;
  const path = configPath({ flags, env });
  return path === undefined ? { flags, env } : { flags, env, file: readConfigFile(path) };
}

/** Prints the one-line diagnostic for `err` and returns the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0;
    // `rtcd` alone prints the help; anything else is a usage error.
    if (err.code !== 'commander.help') line(err.message.replace(/^error: /, ''));
    return EXIT_USAGE;
  }
  if (err instanceof CliUsageError) {
    line(err.message);
    return EXIT_USAGE;
  }
  if (err instanceof SignalOptionsError) {
    const message = err.message.replace(`${err.field}: `, '');
    line(`invalid ${signalFlag(err.field)}: ${message}`);
    return EXIT_USAGE;
  }
  if (err instanceof TurnOptionsError) {
    // TurnServer's own validation: name the flag, not the field.
    const message = err.message.replace(`${err.field}: `, '');
    line(`invalid ${flagForField(err.field)}: ${message}`);
    return EXIT_USAGE;
  }
  // Commands only throw while starting: once listening, failures are logged, not thrown.
  line(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT_RUNTIME;
}

function line(message: string): void {
  process.stderr.write(`rtcd: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
}

/** TurnServerOptions field → the flag that sets it. */
const FIELD_FLAGS: Record<string, string> = {
  users: 'user',
  authSecrets: 'authSecret',
  relayIps: 'relayIp',
  externalIps: 'externalIp',
  allowPeers: 'allowPeer',
  denyPeers: 'denyPeer',
  drainTimeoutMs: 'drainTimeout',
};

function flagForField(field: string): string {
  const key = FIELD_FLAGS[field] ?? field;
  return Object.hasOwn(turnOptions, key) ? `--${kebab(key)}` : field;
}

/** SignalServerOptions field → the flag that sets it. */
function signalFlag(field: string): string {
  const key =
    {
      turnUrls: 'turnUrl',
      noAuth: 'auth',
      resumeGraceMs: 'resumeGrace',
      heartbeatIntervalMs: 'heartbeatInterval',
      sessionRetentionMs: 'sessionRetention',
      drainTimeoutMs: 'drainTimeout',
    }[field] ?? field;
  return Object.hasOwn(signalOptions, key) ? `--${kebab(key)}` : field;
}
