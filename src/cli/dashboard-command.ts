/**
 * `eventstream-tui` (and `run` without --headless): the pipeline in the
 * background, the dashboard in the foreground. Nothing but Ink writes to the
 * terminal: kafkajs and the app log to a file.
 */
import { EXIT } from './exit-codes.js';
import { kafkajsPatchProblem } from '../adapters/kafka/patch-check.js';
import path from 'node:path';
import { render } from 'ink';
import { createElement } from 'react';
import { redactUrl, resolveConfig } from '../config/config.js';
import { logLevel } from '../config/environment.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Pipeline, PipelineFlags, PipelineSettings } from '../app/runtime.js';
import { stackHome, stackPaths } from '../stack/paths.js';
import { recordingProgress } from '../stack/progress.js';
import { Collector } from '../telemetry/collector.js';
import { App } from '../ui/App.js';
import { createDashboardStore, type DashboardStore } from '../ui/store.js';
import { colorEnabled } from '../ui/theme.js';
import { loadCatalog } from '../domain/catalog.js';
import { DashboardController, type InspectSource } from './dashboard/controller.js';
import { inspectSource } from './dashboard/inspect.js';
import { DashboardFeed, HINT, publishHealth } from './dashboard/feed.js';
import { LayoutWatch } from './dashboard/cluster.js';
import { launch, LaunchError, planLaunch, type LaunchFlags, type Launched } from './dashboard/launch.js';
import { UsersFeed } from './dashboard/users-feed.js';
import { enterAlternateScreen, leaveAlternateScreen, restoreOnCrash } from './dashboard/terminal.js';
import type { EventEnvelope } from '../domain/envelope.js';
import { inkPatchProblem } from './dashboard/ink-patch.js';
import { reportUnacknowledged } from './unacknowledged.js';
import { startOps, type OpsFlags } from './ops.js';
import { resolveMetrics } from '../config/metrics.js';

export interface DashboardFlags extends LaunchFlags, PipelineFlags, OpsFlags {
  rate?: number;
  logFile?: string;
  keepStack?: boolean;
}

export async function runDashboard(flags: DashboardFlags): Promise<number> {
  const config = resolveConfig(flags);
  // Checked before anything starts (a bad METRICS_PORT: exit 2); listening comes later.
  resolveMetrics(flags);
  const logFile = flags.logFile ?? path.join(stackHome(), 'logs', 'eventstream-tui.log');

  // Decide before taking the screen: an explicit address that does not answer is an error, not a fallback.
  const plan = await planLaunch(config, flags);
  if (plan.kind === 'error') {
    process.stderr.write(`error: ${plan.message}\n`);
    return 1;
  }

  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write(
      'error: the dashboard needs a terminal; use `eventstream-tui run --headless` in pipes and scripts\n',
    );
    return 2;
  }
  // Before the screen is taken: a port in use is said on the terminal (docs/operations.md).
  let ops: Awaited<ReturnType<typeof startOps>>;
  try {
    ops = await startOps(flags);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 1;
  }
  // Created only now: a file logger must not be torn down before it opened (early exits above).
  const logger = createLogger({ kind: 'file', path: logFile }, logLevel('info'));

  const collector = new Collector();
  // The keys come from the catalog: known before the first frame, so every key acts from the first frame.
  const catalog = await loadCatalog();
  // Embedded from the start (--embedded): the first frame names the stand-ins, not addresses it never uses.
  const embedded = plan.kind === 'embedded';
  const store = createDashboardStore({
    info: {
      brokers: embedded ? EMBEDDED_KAFKA : config.brokers.join(','),
      topic: config.topic,
      group: config.group,
      redisUrl: embedded ? EMBEDDED_REDIS : redactUrl(config.redisUrl),
      logFile,
      mode: '',
    },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
    producer: { rate: flags.rate ?? 1, paused: false },
  });

  let quitting = false;
  let pipeline: Pipeline | undefined = undefined;
  let runtime: typeof import('../app/runtime.js') | undefined;
  let settings: PipelineSettings | undefined;
  let launched: Launched | undefined;
  let resolveExit: (code: number) => void = () => undefined;
  let unacknowledged: EventEnvelope[] = [];
  const exited = new Promise<number>((r) => (resolveExit = r));
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    void (async () => {
      feed.stop();
      const forced = setTimeout(() => resolveExit(1), 5_000);
      forced.unref();
      unacknowledged =
        (await pipeline?.stop().catch((error: unknown) => {
          logger.error({ err: error }, 'stopping the pipeline failed');
          return [];
        })) ?? [];
      clearTimeout(forced);
      resolveExit(0);
    })();
  };
  let inspect: InspectSource | undefined = undefined;
  // The nodes, leaders and in-sync replicas of the topic, read once the pipeline is open.
  const layout = new LayoutWatch(store, () => {
    const open = pipeline;
    return open ? () => open.log.topicLayout(open.settings.topic) : undefined;
  });
  const controller = new DashboardController(
    store,
    () => pipeline,
    quit,
    () => inspect,
    layout,
  );
  const feed = new DashboardFeed({ store, collector, controller, logger, layout });

  for (const unpatched of [inkPatchProblem(), kafkajsPatchProblem()]) {
    if (!unpatched) continue;
    // Said before the screen is taken, and kept in the log: the dashboard still runs.
    process.stderr.write(`warning: ${unpatched}\n`);
    logger.warn(unpatched);
  }
  restoreOnCrash(logFile, () => instance.unmount());
  enterAlternateScreen();
  const instance = render(createElement(App, { store, actions: controller, color: colorEnabled() }), {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 20,
  });
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
  process.once('SIGHUP', quit);
  feed.start();

  try {
    if (plan.kind === 'stack') {
      const where = plan.services.map((s) =>
        s === 'kafka' ? `Kafka at ${config.brokers.join(',')}` : `Redis at ${redactUrl(config.redisUrl)}`,
      );
      store.setState({
        startup: [
          `Nothing answers as ${where.join(' or ')}: starting it locally (stopped again on quit; --keep-stack keeps it running)`,
        ],
      });
    }
    const progress = recordingProgress((lines) =>
      store.setState({ startup: [...store.getState().startup.slice(0, 1), ...lines] }),
    );
    // Loaded only now, with the first frame on the screen: kafkajs and ioredis take a few hundred ms.
    runtime = await import('../app/runtime.js');
    settings = runtime.pipelineSettings(config, flags, 'eventstream-tui-dashboard');
    launched = await launch(plan, flags, config, settings, logger, progress, { paths: stackPaths() });
  } catch (error) {
    instance.unmount();
    leaveAlternateScreen();
    process.stderr.write(`error: ${error instanceof LaunchError ? error.message : String(error)}\n`);
    feed.stop();
    return 1;
  }
  const quitEarly = async (): Promise<number> => {
    await stopStack(launched, flags, logger);
    instance.unmount();
    leaveAlternateScreen();
    reportKeysNotDone(controller.pendingKeys());
    return await exited;
  };
  if (quitting) return await quitEarly();

  const { Pipeline, probeBrokers } = runtime!;
  const p = await Pipeline.open(settings!, logger, launched.backends);
  if (quitting) {
    // Quit while it opened: quit() found no pipeline to stop, so it is stopped here (nothing produced yet).
    await p.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the pipeline failed'));
    return await quitEarly();
  }
  pipeline = p;
  ops?.attach(p);
  inspect = inspectSource(p, collector);
  p.telemetry.subscribe(collector.listener);
  p.telemetry.subscribe(
    (o) => {
      if (o.kind === 'error') logger.warn({ source: o.source }, o.message);
    },
    ['error'],
  );
  store.setState({
    startup: [],
    info: {
      ...store.getState().info,
      mode: launched.mode,
      brokers: p.embedded ? EMBEDDED_KAFKA : config.brokers.join(','),
      redisUrl: p.embedded ? EMBEDDED_REDIS : redactUrl(config.redisUrl),
    },
  });
  // Connected and seeded where Redis answered: users read after that are all there are.
  let connected = false;
  feed.attach({
    source: p,
    users: new UsersFeed(
      p,
      () => controller.prefsVersion,
      { connected: () => connected, noUsers: () => (controller.usersRead = true) },
      () => ({ selected: store.getState().selected, search: store.getState().userSearch?.query ?? '' }),
      (text) => controller.warn(text),
    ),
    // With the pipeline's TLS settings (a TLS listener does not answer a plain probe).
    probeBrokers: () => probeBrokers(config.brokers, 1500, config.kafkaSecurity),
    brokers: config.brokers.join(','),
    redisUrl: redactUrl(config.redisUrl),
  });
  // A consumer that stopped on its own (kafkajs crashed and will not restart, the dead-letter topic
  // refused a letter) is said on screen; the exit code says it too, as every command's does (4).
  let consumerStopped = false;
  void connectInBackground(p, store, logger, config.brokers.join(','), () => quitting).then((ok) => {
    connected = ok;
    if (ok) void p.consumer?.fatal.then(() => (consumerStopped = true));
  });

  const code = await exited;
  await ops?.close();
  await stopStack(launched, flags, logger);
  instance.unmount();
  leaveAlternateScreen();
  logger.flush();
  reportKeysNotDone(controller.pendingKeys());
  // Off the dashboard's screen now: events it produced that Kafka never took are named, not dropped.
  const lost = reportUnacknowledged(unacknowledged, { brokers: config.brokers.join(','), topic: config.topic });
  if (code !== 0) return code;
  return consumerStopped ? EXIT.consumerStopped : lost;
}

/**
 * Starts the consumer and producer, and keeps trying: the screen shows why it waits. A failed try stops
 * what it started, so retries leak no Kafka client. True once started; false if quit first.
 */
async function connectInBackground(
  p: Pipeline,
  store: DashboardStore,
  logger: Logger,
  brokers: string,
  quitting: () => boolean,
): Promise<boolean> {
  while (!quitting()) {
    try {
      const producer = await p.startAll(store.getState().producer.rate);
      producer.setPaused(store.getState().producer.paused);
      return true;
    } catch (error) {
      logger.warn({ err: error }, 'connecting to Kafka failed; retrying');
      publishHealth(p.telemetry, 'kafka', 'error', `${brokers}: ${(error as Error).message}; ${HINT}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  return false;
}

/** What the status bar names in the embedded mode, in place of addresses. */
const EMBEDDED_KAFKA = 'in-process log';
const EMBEDDED_REDIS = 'in-memory';

/** Keys pressed but never carried out (quit before Kafka or Redis answered): said off the dashboard's screen. */
function reportKeysNotDone(keys: readonly string[]): void {
  if (keys.length === 0) return;
  process.stderr.write(`note: quit before Kafka or Redis answered; not carried out: ${keys.join(', ')}\n`);
}

/** On quit, the stack this launch started is stopped again, unless --keep-stack. */
async function stopStack(launched: Launched, flags: DashboardFlags, logger: Logger): Promise<void> {
  if (launched.started.length === 0 || flags.keepStack) return;
  const { stackDown } = await import('../stack/stack.js');
  // Only what this launch started: at its configured addresses.
  await stackDown({ paths: stackPaths(), config: resolveConfig(flags) }, launched.started).catch((error: unknown) =>
    logger.error({ err: error }, 'stopping the local stack failed'),
  );
}
