/**
 * Everything that feeds the dashboard's store on a timer. From {@link DashboardFeed.start}: the UI tick
 * (the collector's snapshot, and what the reads below brought, one frame a tick, not one more per read).
 * From {@link DashboardFeed.attach}, once the pipeline is open: the users read from Redis, the group's
 * lag, the partitions view, a probe of the brokers and a memory line in the log. The Kafka nodes and
 * leaders (./cluster.ts) are asked for on the tick and read at their own pace, once the pipeline is open. Service health goes
 * out as telemetry (`connection` outcomes) only: the collector reads it there, as headless output does.
 * {@link DashboardFeed.stop} clears every timer and listener.
 */
import type { Logger } from '../../log/logger.js';
import type { Collector } from '../../telemetry/collector.js';
import type { ConnectionOutcome } from '../../telemetry/outcomes.js';
import type { Telemetry } from '../../telemetry/telemetry.js';
import type { DashboardState, DashboardStore } from '../../ui/store.js';
import type { LayoutWatch } from './cluster.js';
import type { DashboardController } from './controller.js';
import { tickUpdate } from './tick.js';
import type { UsersPatch } from './users-feed.js';

/** How to start what does not answer: said with every service error. */
export const HINT = 'start it with `eventstream-tui stack up`';

/** Periods, in ms. */
export const UI_TICK_MS = 100;
export const USERS_MS = 500;
export const LAG_MS = 1000;
export const PARTITIONS_MS = 1000;
export const PROBE_MS = 2000;
export const MEMORY_MS = 10_000;

type Service = ConnectionOutcome['service'];

/** A service's health, as the pipeline publishes it. */
export function publishHealth(
  telemetry: Pick<Telemetry, 'publish'>,
  service: Service,
  state: ConnectionOutcome['state'],
  detail: string,
): void {
  telemetry.publish({ kind: 'connection', service, state, detail, at: Date.now() });
}

/** The Redis client's connection events (ioredis: a single client or a cluster). */
export interface RedisEvents {
  readonly status: string;
  on(event: 'ready' | 'reconnecting', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'ready' | 'reconnecting', listener: () => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/** What the feed reads of the pipeline (the `Pipeline` is one). */
export interface FeedSource {
  readonly embedded: boolean;
  readonly telemetry: Pick<Telemetry, 'publish'>;
  readonly redis: RedisEvents;
  /** Set while the consumer runs: only then is there a lag to read, or a recovery to say. */
  readonly consumer: object | undefined;
  lag(): Promise<{ lag: number; partitions: number }>;
}

/** The Users panel's rows (a {@link UsersFeed}): read on a timer and when the selection moves, taken by the tick. */
export interface UsersReader {
  refresh(): Promise<void>;
  take(search?: string): UsersPatch | undefined;
  /** The selection or the search moved past the rows read. */
  needsRead(state: DashboardState): boolean;
}

export interface FeedServices {
  source: FeedSource;
  users: UsersReader;
  /** Probes the brokers: any one answering will do. */
  probeBrokers: () => Promise<readonly { state: string; detail: string }[]>;
  /** Where the services are, as the health details name them. */
  brokers: string;
  redisUrl: string;
}

export interface FeedOptions {
  store: DashboardStore;
  collector: Collector;
  controller: Pick<DashboardController, 'flush' | 'refreshViews'>;
  logger: Logger;
  /** The Kafka nodes, leaders and in-sync replicas (./cluster.ts): asked on every tick, read at its own pace. */
  layout?: Pick<LayoutWatch, 'poll'>;
}

export class DashboardFeed {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unwatch: (() => void)[] = [];
  private users: UsersReader | undefined;
  private pendingLag: Pick<DashboardState, 'lag' | 'partitionCount'> | undefined;
  private stopped = false;

  constructor(private readonly options: FeedOptions) {}

  /** The UI tick: from the first frame, before any service answers. */
  start(): void {
    if (this.stopped) return;
    this.timers.push(setInterval(() => this.tick(), UI_TICK_MS));
  }

  /** The reads from the open pipeline, and its services' health, until {@link stop}. */
  attach(services: FeedServices): void {
    if (this.stopped) return;
    const { source, users } = services;
    const { logger, controller } = this.options;
    this.users = users;
    if (source.embedded) {
      publishHealth(source.telemetry, 'kafka', 'connected', 'embedded');
      publishHealth(source.telemetry, 'redis', 'connected', 'embedded');
    } else {
      this.watchRedis(source, services.redisUrl);
    }
    this.timers.push(
      setInterval(
        () => void users.refresh().catch((e: unknown) => logger.debug({ err: e }, 'users refresh failed')),
        USERS_MS,
      ),
      setInterval(() => void this.probeKafka(services).catch(() => undefined), PROBE_MS),
      setInterval(
        () => void this.measureLag(source).catch((e: unknown) => logger.debug({ err: e }, 'lag failed')),
        LAG_MS,
      ),
      // The open view reads again every second (off the render path): the partitions' offsets and
      // owners, the schedule, the preferences editor's user.
      setInterval(() => void controller.refreshViews().catch(() => undefined), PARTITIONS_MS),
      setInterval(() => this.logMemory(), MEMORY_MS),
    );
    void users.refresh().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    for (const u of this.unwatch.splice(0)) u();
  }

  private tick(): void {
    const { store, collector, controller } = this.options;
    const update: Partial<DashboardState> = { ...this.pendingLag, ...tickUpdate(store.getState(), collector) };
    // Read with the preferences version they were read at: a key pressed since wins (see UsersFeed).
    const users = this.users?.take(store.getState().userSearch?.query ?? '');
    if (users) {
      Object.assign(update, users);
      update.selected = Math.min(store.getState().selected, Math.max(0, users.userCount - 1));
    }
    this.pendingLag = undefined;
    store.setState(update);
    // The selection or the search moved past the rows read: read them now, not at the next timer.
    if (this.users?.needsRead(store.getState())) {
      void this.users.refresh().catch((e: unknown) => this.options.logger.debug({ err: e }, 'users refresh failed'));
    }
    // Keys pressed while Kafka or Redis connected are carried out once they answer.
    void controller.flush();
    this.options.layout?.poll();
  }

  private watchRedis(source: FeedSource, url: string): void {
    const { redis, telemetry } = source;
    const ready = (): void => publishHealth(telemetry, 'redis', 'connected', '');
    const error = (e: Error): void => publishHealth(telemetry, 'redis', 'error', `${url}: ${e.message}; ${HINT}`);
    const reconnecting = (): void => {
      if (redis.status !== 'ready')
        publishHealth(telemetry, 'redis', 'error', `${url} unreachable, reconnecting; ${HINT}`);
    };
    redis.on('ready', ready);
    redis.on('error', error);
    redis.on('reconnecting', reconnecting);
    this.unwatch.push(() => {
      redis.off('ready', ready);
      redis.off('error', error);
      redis.off('reconnecting', reconnecting);
    });
  }

  /** No broker answers: Kafka is shown down; one answers again while the consumer runs: shown up. */
  private async probeKafka(services: FeedServices): Promise<void> {
    const { source } = services;
    if (source.embedded) return;
    const probes = await services.probeBrokers();
    const current = this.options.collector.health('kafka');
    if (!probes.some((probe) => probe.state === 'answers')) {
      const details = probes.map((probe) => probe.detail).join('; ');
      publishHealth(source.telemetry, 'kafka', 'error', `${services.brokers} not answering (${details}); ${HINT}`);
    } else if (current.state === 'error' && source.consumer) {
      publishHealth(source.telemetry, 'kafka', 'connected', 'broker answers again');
    }
  }

  private async measureLag(source: FeedSource): Promise<void> {
    if (!source.consumer) return;
    const { lag, partitions } = await source.lag();
    this.pendingLag = { lag, partitionCount: partitions };
  }

  private logMemory(): void {
    const m = process.memoryUsage();
    this.options.logger.info(
      {
        rss: m.rss,
        heapTotal: m.heapTotal,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      },
      'memory',
    );
  }
}
