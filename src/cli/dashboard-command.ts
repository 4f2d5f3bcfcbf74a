/**
 * `eventstream-tui` (and `run` without --headless): the pipeline in the
 * background, the dashboard in the foreground. Nothing but Ink writes to the
 * terminal: kafkajs and the app log to a file.
 */
import path from 'node:path';
import { render } from 'ink';
import { createElement } from 'react';
import { redactUrl, resolveConfig } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import type { Pipeline, PipelineFlags, PipelineSettings } from '../app/runtime.js';
import { stackHome, stackPaths } from '../stack/paths.js';
import { recordingProgress } from '../stack/progress.js';
import { Collector } from '../telemetry/collector.js';
import { App } from '../ui/App.js';
import { createDashboardStore, type DashboardState } from '../ui/store.js';
import { colorEnabled } from '../ui/theme.js';
import { loadCatalog } from '../domain/catalog.js';
import { DashboardController, type InspectSource } from './dashboard/controller.js';
import { inspectSource } from './dashboard/inspect.js';
import { tickUpdate } from './dashboard/tick.js';
import { launch, LaunchError, planLaunch, type LaunchFlags, type Launched } from './dashboard/launch.js';
import { UsersFeed } from './dashboard/users-feed.js';
import { enterAlternateScreen, leaveAlternateScreen, restoreOnCrash } from './dashboard/terminal.js';
import type { RedisClient } from '../adapters/redis/client.js';
import type { EventEnvelope } from '../domain/envelope.js';
import { inkPatchProblem } from './dashboard/ink-patch.js';
import { reportUnacknowledged } from './unacknowledged.js';

export interface DashboardFlags extends LaunchFlags, PipelineFlags {
  rate?: number;
  logFile?: string;
  keepStack?: boolean;
}

const HINT = 'start it with `eventstream-tui stack up`';
const UI_TICK_MS = 100;

function watchRedis(redis: RedisClient, collector: Collector, url: string): void {
  redis.on('ready', () => collector.setHealth('redis', 'connected', ''));
  redis.on('error', (error: Error) => collector.setHealth('redis', 'error', `${url}: ${error.message}; ${HINT}`));
  redis.on('reconnecting', () => {
    if (redis.status !== 'ready') collector.setHealth('redis', 'error', `${url} unreachable, reconnecting; ${HINT}`);
  });
}

export async function runDashboard(flags: DashboardFlags): Promise<number> {
  const config = resolveConfig(flags);
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
  // Created only now: a file logger must not be torn down before it opened (early exits above).
  const logger = createLogger({ kind: 'file', path: logFile });

  const collector = new Collector();
  // The keys come from the catalog: known before the first frame, so every key acts from the first frame.
  const catalog = await loadCatalog();
  const store = createDashboardStore({
    info: {
      brokers: config.brokers.join(','),
      topic: config.topic,
      group: config.group,
      redisUrl: redactUrl(config.redisUrl),
      logFile,
      mode: '',
    },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
    producer: { rate: flags.rate ?? 1, paused: false },
  });

  const timers: NodeJS.Timeout[] = [];
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
      for (const t of timers) clearInterval(t);
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
  const controller = new DashboardController(
    store,
    () => pipeline,
    quit,
    () => inspect,
  );

  const unpatched = inkPatchProblem();
  if (unpatched) {
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
  // Users and lag, read on their own timers, reach the screen with the next tick: one frame a tick,
  // not one more per read.
  let pendingLag: Pick<DashboardState, 'lag' | 'partitionCount'> | undefined;
  // Users read from Redis, with the preferences version they were read at: a key pressed since wins.
  let usersFeed: UsersFeed | undefined = undefined;
  timers.push(
    setInterval(() => {
      const update: Partial<DashboardState> = { ...pendingLag, ...tickUpdate(store.getState(), collector) };
      const users = usersFeed?.take();
      if (users) {
        update.users = users;
        update.selected = Math.min(store.getState().selected, Math.max(0, users.length - 1));
      }
      pendingLag = undefined;
      store.setState(update);
      // Keys pressed while Kafka or Redis connected are carried out once they answer.
      void controller.flush();
    }, UI_TICK_MS),
  );

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
    for (const t of timers) clearInterval(t);
    return 1;
  }
  if (quitting) {
    await stopStack(launched, flags, logger);
    instance.unmount();
    leaveAlternateScreen();
    return await exited;
  }

  const { Pipeline, probeBrokers } = runtime!;
  pipeline = await Pipeline.open(settings!, logger, launched.backends);
  const p = pipeline;
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
      brokers: p.embedded ? 'in-process log' : config.brokers.join(','),
      redisUrl: p.embedded ? 'in-memory' : redactUrl(config.redisUrl),
    },
  });
  if (p.embedded) {
    collector.setHealth('kafka', 'connected', 'embedded');
    collector.setHealth('redis', 'connected', 'embedded');
  } else {
    watchRedis(p.redis, collector, redactUrl(config.redisUrl));
  }

  // Connected and seeded where Redis answered: users read after that are all there are.
  let connected = false;
  // Connect in the background and keep trying: the screen shows why it waits. A failed try stops what
  // it started, so retries leak no Kafka client.
  const connect = async (): Promise<void> => {
    while (!quitting) {
      try {
        const producer = await p.startAll(store.getState().producer.rate);
        producer.setPaused(store.getState().producer.paused);
        connected = true;
        return;
      } catch (error) {
        logger.warn({ err: error }, 'connecting to Kafka failed; retrying');
        collector.setHealth('kafka', 'error', `${config.brokers.join(',')}: ${(error as Error).message}; ${HINT}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  const feed = new UsersFeed(p, () => controller.prefsVersion, {
    connected: () => connected,
    noUsers: () => (controller.usersRead = true),
  });
  usersFeed = feed;

  const watchKafka = async (): Promise<void> => {
    if (p.embedded) return;
    // With the pipeline's TLS settings (a TLS listener does not answer a plain probe); any broker will do.
    const probes = await probeBrokers(config.brokers, 1500, config.kafkaSecurity);
    const current = collector.snapshot(0).kafka;
    if (!probes.some((probe) => probe.state === 'answers')) {
      const details = probes.map((probe) => probe.detail).join('; ');
      collector.setHealth('kafka', 'error', `${config.brokers.join(',')} not answering (${details}); ${HINT}`);
    } else if (current.state === 'error' && p.consumer) {
      collector.setHealth('kafka', 'connected', 'broker answers again');
    }
  };

  const measureLag = async (): Promise<void> => {
    if (!p.consumer) return;
    const { lag, partitions } = await p.lag();
    pendingLag = { lag, partitionCount: partitions };
  };

  timers.push(
    setInterval(() => void feed.refresh().catch((e: unknown) => logger.debug({ err: e }, 'users refresh failed')), 500),
    setInterval(() => void watchKafka().catch(() => undefined), 2000),
    setInterval(() => void measureLag().catch((e: unknown) => logger.debug({ err: e }, 'lag failed')), 1000),
    // The partitions view reads offsets and owners every second while it is open (off the render path).
    setInterval(() => void controller.refreshPartitions(), 1000),
    setInterval(() => {
      const m = process.memoryUsage();
      logger.info(
        {
          rss: m.rss,
          heapTotal: m.heapTotal,
          heapUsed: m.heapUsed,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
        },
        'memory',
      );
    }, 10_000),
  );
  void feed.refresh().catch(() => undefined);
  void connect();

  const code = await exited;
  await stopStack(launched, flags, logger);
  instance.unmount();
  leaveAlternateScreen();
  logger.flush();
  // Off the dashboard's screen now: events it produced that Kafka never took are named, not dropped.
  const lost = reportUnacknowledged(unacknowledged, { brokers: config.brokers.join(','), topic: config.topic });
  return code === 0 ? lost : code;
}

/** On quit, the stack this launch started is stopped again, unless --keep-stack. */
async function stopStack(
  launched: Launched,
  flags: DashboardFlags,
  logger: ReturnType<typeof createLogger>,
): Promise<void> {
  if (launched.started.length === 0 || flags.keepStack) return;
  const { stackDown } = await import('../stack/stack.js');
  await stackDown({ paths: stackPaths() }, launched.started).catch((error: unknown) =>
    logger.error({ err: error }, 'stopping the local stack failed'),
  );
}
