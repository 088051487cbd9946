#!/usr/bin/env node
// The `weaver` daemon: `weaver [flags] [peers…]` (see `weaver --help`). Logs go to stderr in
// upstream's format; SIGTERM/SIGINT stop it cleanly (exit 0); `DELETE /peer` resets and exits 0.
import { createDaemonLogger } from '../log.js';
import type { Weaver } from '../weaver.js';
import { parseWeaverArgs, WeaverUsageError } from '../weaver-config.js';

async function main(): Promise<number | undefined> {
  let parsed: ReturnType<typeof parseWeaverArgs>;
  try {
    parsed = parseWeaverArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof WeaverUsageError)) throw err;
    createDaemonLogger().fatal(err.message);
    return err.exitCode;
  }
  if (parsed.kind === 'exit') {
    (parsed.exitCode === 0 ? process.stdout : process.stderr).write(parsed.output);
    return parsed.exitCode;
  }
  const { config } = parsed;
  // The peer and its datapaths load only now: `--help`/`--version` stay quick.
  const [{ Weaver }, { builtinServices }] = await Promise.all([
    import('../weaver.js'),
    import('../services.js'),
  ]);
  const logger = createDaemonLogger({ level: config.logLevel });
  let weaver: Weaver;
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    process.exitCode = code;
    // Everything is closed; leave anyway should a library keep a handle open.
    setTimeout(() => process.exit(code), 2_000).unref();
  };
  try {
    weaver = new Weaver(config, { logger, onReset: () => exit(0) });
  } catch (err) {
    logger.fatal((err as Error).message);
    return 1;
  }
  for (const service of builtinServices(config)) weaver.use(service);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`=== received SIG${signal.replace(/^SIG/, '')} ===`);
    weaver.stop().then(
      () => exit(0),
      (err) => {
        logger.error(`Error while stopping: ${(err as Error).message}`);
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A daemon keeps serving after a stray rejection (logged); a thrown exception is fatal, as a Go panic.
  process.on('unhandledRejection', (reason) =>
    logger.error(
      `Unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    ),
  );
  process.on('uncaughtException', (err) => {
    logger.fatal(`${err.stack ?? err.message}`);
    process.exit(1);
  });

  try {
    await weaver.start();
  } catch (err) {
    logger.fatal((err as Error).message);
    return 1;
  }
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
