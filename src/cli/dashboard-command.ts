/**
 * `eventstream-tui` (and `run` without --headless): the pipeline in the
 * background, the dashboard in the foreground. Nothing but Ink writes to the
 * terminal: kafkajs and the app log to a file.
 */
import path from 'node:path';
import { render } from 'ink';
import { createElement } from 'react';
import { hostPort, resolveConfig, type ConfigFlags } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import { Pipeline, type PipelineSettings } from '../pipeline/runtime.js';
import { stackHome } from '../stack/paths.js';
import { probeKafka } from '../stack/probe.js';
import { Collector } from '../telemetry/collector.js';
import { App } from '../ui/App.js';
import { createDashboardStore } from '../ui/store.js';
import { colorEnabled } from '../ui/theme.js';
import { DashboardController } from './dashboard/controller.js';
import { enterAlternateScreen, leaveAlternateScreen, restoreOnCrash } from './dashboard/terminal.js';
import type { Redis } from 'ioredis';

export interface DashboardFlags extends ConfigFlags {
  rate?: number;
  from?: 'earliest' | 'latest';
  maxBytes?: number;
  latency?: number;
  failureRate?: number;
  logFile?: string;
}

const HINT = 'start it with `eventstream-tui stack up`';
const UI_TICK_MS = 100;

function watchRedis(redis: Redis, collector: Collector, url: string): void {
  redis.on('ready', () => collector.setHealth('redis', 'connected', ''));
  redis.on('error', (error: Error) => collector.setHealth('redis', 'error', `${url}: ${error.message}; ${HINT}`));
  redis.on('reconnecting', () => {
    if (redis.status !== 'ready') collector.setHealth('redis', 'error', `${url} unreachable, reconnecting; ${HINT}`);
  });
}

export async function runDashboard(flags: DashboardFlags): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    process.stderr.write(
      'error: the dashboard needs a terminal; use `eventstream-tui run --headless` in pipes and scripts\n',
    );
    return 2;
  }
  const config = resolveConfig(flags);
  const logFile = flags.logFile ?? path.join(stackHome(), 'logs', 'eventstream-tui.log');
  const logger = createLogger({ kind: 'file', path: logFile });
  const settings: PipelineSettings = {
    brokers: config.brokers,
    redisUrl: config.redisUrl,
    topic: config.topic,
    group: config.group,
    partitions: config.partitions,
    fromBeginning: (flags.from ?? 'earliest') === 'earliest',
    maxBytes: flags.maxBytes ?? 1024 * 1024,
    latencyMs: flags.latency ?? 0,
    failureRate: flags.failureRate ?? 0,
    clientId: 'eventstream-tui-dashboard',
  };
  const pipeline = await Pipeline.open(settings, logger);
  const collector = new Collector();
  pipeline.telemetry.subscribe(collector.listener);
  pipeline.telemetry.subscribe((o) => {
    if (o.kind === 'error') logger.warn({ source: o.source }, o.message);
  });
  watchRedis(pipeline.redis, collector, config.redisUrl);

  const store = createDashboardStore({
    info: {
      brokers: config.brokers.join(','),
      topic: config.topic,
      group: config.group,
      redisUrl: config.redisUrl,
      logFile,
      mode: '',
    },
    channels: pipeline.catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...pipeline.catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
    producer: { rate: flags.rate ?? 1, paused: false },
  });

  const timers: NodeJS.Timeout[] = [];
  let quitting = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    void (async () => {
      for (const t of timers) clearInterval(t);
      const forced = setTimeout(() => resolveExit(1), 5_000);
      forced.unref();
      await pipeline.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the pipeline failed'));
      clearTimeout(forced);
      resolveExit(0);
    })();
  };
  const controller = new DashboardController(store, pipeline, quit);

  // Connect in the background and keep trying: the screen shows why it waits.
  const connect = async (): Promise<void> => {
    while (!quitting) {
      try {
        await pipeline.ensureTopics();
        const meta = await pipeline.kafka
          .admin()
          .fetchTopicMetadata({ topics: [config.topic] })
          .catch(() => undefined);
        store.setState({ partitionCount: meta?.topics[0]?.partitions.length ?? null });
        if (pipeline.redis.status === 'ready') await pipeline.seedIfEmpty();
        await pipeline.startConsumer();
        const producer = await pipeline.startProducer(store.getState().producer.rate);
        producer.setPaused(store.getState().producer.paused);
        return;
      } catch (error) {
        logger.warn({ err: error }, 'connecting to Kafka failed; retrying');
        collector.setHealth('kafka', 'error', `${config.brokers.join(',')}: ${(error as Error).message}; ${HINT}`);
        await pipeline.consumer?.stop().catch(() => undefined);
        pipeline.consumer = undefined;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  const refreshUsers = async (): Promise<void> => {
    if (pipeline.redis.status !== 'ready') return;
    const version = controller.prefsVersion;
    const records = await pipeline.store.listUsers();
    if (version !== controller.prefsVersion) return;
    store.setState((s) => ({
      users: records.map((r) => ({
        id: r.profile.id,
        name: r.profile.name ?? '',
        prefs: r.prefs,
        reachable: Object.fromEntries(
          pipeline.catalog.channels.map((c) => [c.name, !c.addressField || Boolean(r.profile[c.addressField])]),
        ),
      })),
      selected: Math.min(s.selected, Math.max(0, records.length - 1)),
    }));
  };

  const watchKafka = async (): Promise<void> => {
    const first = config.brokers[0]!;
    const probe = await probeKafka(hostPort(first).host, hostPort(first).port, 1500);
    const current = collector.snapshot(0).kafka;
    if (probe.state !== 'answers') {
      collector.setHealth('kafka', 'error', `${config.brokers.join(',')} not answering (${probe.detail}); ${HINT}`);
    } else if (current.state === 'error' && pipeline.consumer) {
      collector.setHealth('kafka', 'connected', 'broker answers again');
    }
  };

  const admin = pipeline.kafka.admin();
  let adminConnected = false;
  const measureLag = async (): Promise<void> => {
    if (!pipeline.consumer) return;
    if (!adminConnected) {
      await admin.connect();
      adminConnected = true;
    }
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(config.topic),
      admin.fetchOffsets({ groupId: config.group, topics: [config.topic] }),
    ]);
    let lag = 0n;
    for (const end of ends) {
      const c = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const from = BigInt(c) >= 0n ? BigInt(c) : BigInt(end.low);
      if (BigInt(end.high) > from) lag += BigInt(end.high) - from;
    }
    store.setState({ lag: Number(lag), partitionCount: ends.length });
  };

  restoreOnCrash(logFile, () => instance?.unmount());
  enterAlternateScreen();
  const instance = render(createElement(App, { store, actions: controller, color: colorEnabled() }), {
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 20,
  });
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
  process.once('SIGHUP', quit);

  timers.push(
    setInterval(() => {
      store.setState({ snapshot: collector.snapshot(80), now: Date.now() });
    }, UI_TICK_MS),
    setInterval(() => void refreshUsers().catch((e: unknown) => logger.debug({ err: e }, 'users refresh failed')), 500),
    setInterval(() => void watchKafka().catch(() => undefined), 2000),
    setInterval(() => void measureLag().catch((e: unknown) => logger.debug({ err: e }, 'lag failed')), 2000),
    setInterval(() => {
      const m = process.memoryUsage();
      logger.info({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }, 'memory');
    }, 10_000),
  );
  void refreshUsers().catch(() => undefined);
  void connect();

  const code = await exited;
  await admin.disconnect().catch(() => undefined);
  instance.unmount();
  leaveAlternateScreen();
  logger.flush();
  return code;
}
