/**
 * libsrtp (Debian libsrtp2-dev) as a reference for lib/srtp: compiles libsrtp-harness.c at test
 * time (once per test process) and talks to it over pipes. Usage:
 *
 *   t.test('…', { skip: libsrtpSkipReason() }, async (t) => {
 *     const libsrtp = await startLibsrtp();
 *     t.teardown(() => libsrtp.close());
 *     const results = await libsrtp.protect('rtp', 'AEAD_AES_128_GCM', keyMaterial, packets);
 *   });
 *
 * `libsrtpSkipReason()` skips when cc or libsrtp's header is missing, except with `CI=true`,
 * where the test runs and fails on `startLibsrtp`'s clear error instead (.ci/run installs both).
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** DTLS-SRTP profile names (RFC 5764 §4.1.2, RFC 7714 §14.2) the harness knows. */
export type LibsrtpProfile =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AEAD_AES_128_GCM'
  | 'AEAD_AES_256_GCM';

export const LIBSRTP_PROFILES: readonly LibsrtpProfile[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
];

export type PacketKind = 'rtp' | 'rtcp';

/**
 * libsrtp's answer for one packet: the output bytes, or its `srtp_err_status_t` (7 auth_fail,
 * 9 replay_fail, 10 replay_old, 2 bad_param, 21 parse_err…).
 */
export type LibsrtpResult = { ok: true; packet: Buffer } | { ok: false; status: number };

export const LibsrtpStatus = {
  ok: 0,
  badParam: 2,
  authFail: 7,
  replayFail: 9,
  replayOld: 10,
  parseErr: 21,
} as const;

export interface LibsrtpSessionOptions {
  /** Replay window in packets (libsrtp's `window_size`). Default 128. */
  windowSize?: number;
  /** Let protect take a sequence number twice (`allow_repeat_tx`). Default false. */
  allowRepeatTx?: boolean;
}

export interface Libsrtp {
  /**
   * Protects `packets` in order in one fresh libsrtp session (any outbound SSRC: each SSRC gets
   * its own stream, rollover counter and SRTCP index). `keyMaterial` is master key || master salt.
   */
  protect(
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly Uint8Array[],
    options?: LibsrtpSessionOptions,
  ): Promise<LibsrtpResult[]>;
  /** Unprotects `packets` in order in one fresh session (any inbound SSRC). */
  unprotect(
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly Uint8Array[],
    options?: LibsrtpSessionOptions,
  ): Promise<LibsrtpResult[]>;
  /** Like protect/unprotect, RTP and RTCP mixed in one session. */
  run(
    direction: 'protect' | 'unprotect',
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly { kind: PacketKind; packet: Uint8Array }[],
    options?: LibsrtpSessionOptions,
  ): Promise<LibsrtpResult[]>;
  /**
   * For benchmarks: nanoseconds libsrtp spends on `count` protects (an RTP packet's sequence
   * number set to 0, 1, 2…) or on unprotecting `count` such packets protected beforehand.
   */
  bench(
    direction: 'protect' | 'unprotect',
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    count: number,
    packet: Uint8Array,
  ): Promise<number>;
  /** Ends the harness process (the binary is removed when the test process exits). Idempotent. */
  close(): Promise<void>;
}

const HEADER = '/usr/include/srtp2/srtp.h';
const SOURCE = fileURLToPath(new URL('./libsrtp-harness.c', import.meta.url));

/** Path of the C compiler (`cc`, else `gcc`), or undefined. */
export function findCompiler(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const name of ['cc', 'gcc']) {
    for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** A reason to skip libsrtp tests, or false to run them (always false when `CI=true`). */
export function libsrtpSkipReason(): string | false {
  if (process.env.CI === 'true') return false;
  if (findCompiler() === undefined) {
    return 'no C compiler (apt-get install gcc); libsrtp cross-check skipped';
  }
  if (!existsSync(HEADER)) {
    return `${HEADER} is missing (apt-get install libsrtp2-dev); libsrtp cross-check skipped`;
  }
  return false;
}

let compiled: Promise<{ dir: string; binary: string }> | undefined;

/** Compiles the harness once per process into a temporary directory. */
function compileHarness(): Promise<{ dir: string; binary: string }> {
  compiled ??= (async () => {
    const cc = findCompiler();
    if (cc === undefined) {
      throw new Error('no C compiler (cc/gcc) in PATH; install gcc to run the libsrtp cross-check');
    }
    if (!existsSync(HEADER)) {
      throw new Error(`${HEADER} not found; install libsrtp2-dev to run the libsrtp cross-check`);
    }
    const dir = await mkdtemp(join(tmpdir(), 'rtcd-libsrtp-'));
    const binary = join(dir, 'libsrtp-harness');
    try {
      await promisify(execFile)(cc, ['-O2', '-std=c11', '-o', binary, SOURCE, '-lsrtp2']);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`compiling ${SOURCE} against libsrtp failed`, { cause: err });
    }
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return { dir, binary };
  })();
  return compiled;
}

/** Compiles (first time) and starts the harness. */
export async function startLibsrtp(): Promise<Libsrtp> {
  const { binary } = await compileHarness();
  return new HarnessProcess(spawn(binary, [], { stdio: 'pipe' }));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

interface Pending {
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

class HarnessProcess implements Libsrtp {
  private readonly pending: Pending[] = [];
  private partial = '';
  private stderr = '';
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    child.on('error', (err) => this.fail(err));
    child.on('exit', (code, signal) => {
      this.fail(new Error(`libsrtp harness exited (${code ?? signal}): ${this.stderr}`));
    });
    child.stdin.on('error', (err) => this.fail(err));
  }

  protect(
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly Uint8Array[],
    options?: LibsrtpSessionOptions,
  ): Promise<LibsrtpResult[]> {
    const items = packets.map((packet) => ({ kind, packet }));
    return this.run('protect', profile, keyMaterial, items, options);
  }

  unprotect(
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly Uint8Array[],
    options?: LibsrtpSessionOptions,
  ): Promise<LibsrtpResult[]> {
    const items = packets.map((packet) => ({ kind, packet }));
    return this.run('unprotect', profile, keyMaterial, items, options);
  }

  async run(
    direction: 'protect' | 'unprotect',
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    packets: readonly { kind: PacketKind; packet: Uint8Array }[],
    options: LibsrtpSessionOptions = {},
  ): Promise<LibsrtpResult[]> {
    const window = options.windowSize ?? 128;
    const repeat = options.allowRepeatTx === true ? 1 : 0;
    const lines = [`session ${direction} ${profile} ${hex(keyMaterial)} ${window} ${repeat}`];
    for (const { kind, packet } of packets) lines.push(`${kind} ${hex(packet)}`);
    const answers = await Promise.all(this.send(lines));
    const session = answers.shift();
    if (session !== 'ok') {
      throw new Error(`libsrtp refused the session (${profile}): ${session}`);
    }
    return answers.map(parseResult);
  }

  async bench(
    direction: 'protect' | 'unprotect',
    kind: PacketKind,
    profile: LibsrtpProfile,
    keyMaterial: Uint8Array,
    count: number,
    packet: Uint8Array,
  ): Promise<number> {
    const line = `bench ${direction} ${kind} ${profile} ${hex(keyMaterial)} ${count} ${hex(packet)}`;
    const [answer] = await Promise.all(this.send([line]));
    const match = /^ok (\d+)$/.exec(answer ?? '');
    if (match === null) throw new Error(`libsrtp bench failed: ${answer}`);
    return Number(match[1]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  private send(lines: string[]): Promise<string>[] {
    const failure = this.failure;
    if (failure !== undefined) return lines.map(() => Promise.reject(failure));
    if (this.closed) return lines.map(() => Promise.reject(new Error('libsrtp harness closed')));
    const answers = lines.map(
      (): Promise<string> =>
        new Promise((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    this.child.stdin.write(`${lines.join('\n')}\n`);
    return answers;
  }

  private onData(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const waiter = this.pending.shift();
      if (waiter === undefined) {
        this.fail(new Error(`unexpected line from the libsrtp harness: ${line.slice(0, 80)}`));
        return;
      }
      waiter.resolve(line);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }
}

function parseResult(line: string): LibsrtpResult {
  if (line.startsWith('ok ')) return { ok: true, packet: Buffer.from(line.slice(3), 'hex') };
  const match = /^err (-?\d+)$/.exec(line);
  if (match === null) throw new Error(`unexpected answer from the libsrtp harness: ${line}`);
  const status = Number(match[1]);
  if (status < 0) throw new Error('the libsrtp harness could not read its command');
  return { ok: false, status };
}
