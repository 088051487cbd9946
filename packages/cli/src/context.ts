import type { DaemonState } from './daemon.js';
import { CliExit } from './errors.js';
import { type HttpCallOptions, HttpConnectError, type HttpResponse, httpCall } from './http-client.js';
import { type StatePaths, statePaths } from './state-dir.js';

/** Where a command's output goes and which environment it sees (injectable for tests). */
export interface CliIO {
  /** The environment the command reads (`WEAVE_HTTP_ADDR`, `WEAVER_BIN`, …). */
  env: NodeJS.ProcessEnv;
  /** Writes `text` to standard output. */
  stdout(text: string): void;
  /** Writes `text` to standard error. */
  stderr(text: string): void;
}

/** Default address of weaver's HTTP API (upstream `HTTP_ADDR`). */
export const DEFAULT_HTTP_ADDR = '127.0.0.1:6784';

/** Upstream's text when the router is not there (`check_running weave`). */
export const NOT_PRESENT_MESSAGE = 'weave container is not present. Have you launched it?';

/** Upstream's text when the router exists but is not running. */
export const NOT_RUNNING_MESSAGE = 'weave container is not running.';

/** Everything a verb needs: output, environment, weaver's API and the state files. */
export class CliContext {
  /** The injected input/output. */
  readonly io: CliIO;
  #paths: StatePaths | undefined;

  constructor(io: CliIO) {
    this.io = io;
  }

  /** The environment. */
  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  /** weaver's API address (`$WEAVE_HTTP_ADDR`, default 127.0.0.1:6784). */
  get httpAddr(): string {
    const addr = this.io.env.WEAVE_HTTP_ADDR;
    return addr === undefined || addr === '' ? DEFAULT_HTTP_ADDR : addr;
  }

  /** Pid file, log file and database paths. */
  get paths(): StatePaths {
    this.#paths ??= statePaths(this.io.env);
    return this.#paths;
  }

  /**
   * The weaver named by the pid file. The daemon module (and node:child_process with it) is
   * loaded only here, off the path of a `weave status` that gets an answer.
   */
  async daemonState(): Promise<DaemonState> {
    const { daemonState } = await import('./daemon.js');
    return daemonState(this.paths);
  }

  /** Writes to stdout. */
  out(text: string): void {
    this.io.stdout(text);
  }

  /** Writes to stderr. */
  err(text: string): void {
    this.io.stderr(text);
  }

  /** One raw request; rejects with HttpConnectError when nothing answered. */
  request(method: string, path: string, options?: HttpCallOptions): Promise<HttpResponse> {
    return httpCall(this.httpAddr, method, path, options);
  }

  /**
   * `call_weave`: resolves with the body of a 2xx answer. Otherwise rejects with CliExit: 404 ⇒
   * exit 4 and no message; another status ⇒ exit 1 with weaver's text; no answer ⇒ curl's exit
   * status with upstream's "not present" text when no weaver runs (else the connection error).
   */
  async call(method: string, path: string, options?: HttpCallOptions): Promise<string> {
    let res: HttpResponse;
    try {
      res = await this.request(method, path, options);
    } catch (err) {
      if (!(err instanceof HttpConnectError)) throw err;
      throw new CliExit(
        (await this.notRunningMessage()) ?? `curl: (${err.exitCode}) ${err.message}`,
        err.exitCode,
      );
    }
    if (res.status >= 200 && res.status < 300) return res.body;
    if (res.status === 404) throw new CliExit('', 4);
    throw new CliExit(trimNewline(res.body), 1);
  }

  /**
   * The upstream message saying why weaver is not running, or undefined when the pid file names
   * a live weaver (it may still be starting).
   */
  async notRunningMessage(): Promise<string | undefined> {
    const state = await this.daemonState();
    if (state.kind === 'running') return undefined;
    return state.kind === 'absent' ? NOT_PRESENT_MESSAGE : NOT_RUNNING_MESSAGE;
  }

  /**
   * `check_running weave`: resolves when weaver answers (or its pid file names a live process);
   * otherwise rejects with the upstream message and exit 1.
   */
  async checkRunning(): Promise<void> {
    if (await this.isRunning()) return;
    throw new CliExit((await this.notRunningMessage()) ?? NOT_PRESENT_MESSAGE, 1);
  }

  /** Whether a weaver runs here: the pid file names a live one, or the API answers. */
  async isRunning(): Promise<boolean> {
    if ((await this.daemonState()).kind === 'running') return true;
    try {
      await this.request('GET', '/status', { connectTimeoutMs: 1000, timeoutMs: 3000 });
      return true;
    } catch {
      return false;
    }
  }
}

/** The text without one trailing newline (stderr lines get their own). */
export function trimNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
