/**
 * The dashboard's feed on fakes and a fake clock: what reaches the store on each timer, service health
 * only as telemetry, and nothing left running after stop.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DashboardFeed,
  HINT,
  LAG_MS,
  MEMORY_MS,
  PROBE_MS,
  UI_TICK_MS,
  USERS_MS,
  type FeedServices,
  type FeedSource,
} from '../../src/cli/dashboard/feed.js';
import { UsersFeed, type UsersSource } from '../../src/cli/dashboard/users-feed.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { createLogger } from '../../src/log/logger.js';
import type { UserRead } from '../../src/adapters/redis/store.js';
import type { UserRecord } from '../../src/pipeline/ports.js';
import { Collector } from '../../src/telemetry/collector.js';
import type { ConnectionOutcome, Outcome } from '../../src/telemetry/outcomes.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/store.js';

const catalog = await loadCatalog();

class FakeRedis extends EventEmitter {
  status = 'connecting';
}

/** A pipeline as the feed and the users read see it, with Redis as an event emitter and users in memory. */
class FakePipeline implements FeedSource, UsersSource {
  readonly telemetry = new Telemetry();
  readonly redis = new FakeRedis();
  readonly catalog = catalog;
  consumer: object | undefined = undefined;
  records: UserRecord[] = [];
  lagReads = 0;
  userReads = 0;
  /** Set: the next users read waits for it. */
  gate: Promise<void> | undefined;
  readonly store = {
    countUsers: async (): Promise<number> => {
      this.userReads++;
      await this.gate;
      return this.records.length;
    },
    scanUserIds: async (): Promise<{ cursor: string; ids: string[] }> => ({
      cursor: '0',
      ids: this.records.map((r) => r.profile.id),
    }),
    readUsers: async (ids: readonly string[]): Promise<UserRead[]> =>
      ids.map((id) => ({ id, record: this.records.find((r) => r.profile.id === id) })),
  };
  constructor(readonly embedded = false) {}
  lag(): Promise<{ lag: number; partitions: number }> {
    this.lagReads++;
    return Promise.resolve({ lag: 42, partitions: 3 });
  }
}

const user = (id: string, sms: 'on' | 'off' = 'on'): UserRecord => ({
  profile: { id, name: id, email: `${id}@example.com`, phone: '+1555' },
  prefs: { email: 'on', sms, push: 'off', console: 'on' },
});

function setup(options: { embedded?: boolean } = {}): {
  feed: DashboardFeed;
  store: DashboardStore;
  collector: Collector;
  pipeline: FakePipeline;
  health: ConnectionOutcome[];
  controller: { prefsVersion: number; flushes: number; partitionReads: number };
  services: (probes?: { state: string; detail: string }[]) => FeedServices;
} {
  const store = createDashboardStore({
    info: { brokers: '', topic: '', group: '', redisUrl: '', logFile: '', mode: '' },
    channels: [],
    eventTypes: [],
  });
  const collector = new Collector();
  const pipeline = new FakePipeline(options.embedded ?? false);
  pipeline.telemetry.subscribe(collector.listener);
  const health: ConnectionOutcome[] = [];
  pipeline.telemetry.subscribe((o: Outcome) => {
    if (o.kind === 'connection') health.push(o);
  });
  const controller = {
    prefsVersion: 0,
    flushes: 0,
    partitionReads: 0,
    flush(): Promise<void> {
      this.flushes++;
      return Promise.resolve();
    },
    refreshViews(): Promise<void> {
      this.partitionReads++;
      return Promise.resolve();
    },
  };
  const feed = new DashboardFeed({ store, collector, controller, logger: createLogger({ kind: 'silent' }) });
  const services = (probes = [{ state: 'answers', detail: 'broker' }]): FeedServices => ({
    source: pipeline,
    users: new UsersFeed(pipeline, () => controller.prefsVersion),
    probeBrokers: () => Promise.resolve(probes),
    brokers: 'kafka:9092',
    redisUrl: 'redis://cache:6379',
  });
  return { feed, store, collector, pipeline, health, controller, services };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the dashboard feed: start and stop', () => {
  it('start: the UI tick alone copies the collector into the store and flushes queued keys', async () => {
    const { feed, store, pipeline, controller } = setup();
    feed.start();
    expect(vi.getTimerCount()).toBe(1);
    pipeline.telemetry.publish({ kind: 'produced', eventId: 'e1', type: 'user_signup', userId: 'u', at: 0 });
    expect(store.getState().snapshot.totals.produced).toBe(0);
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState().snapshot.totals.produced).toBe(1);
    expect(controller.flushes).toBe(1);
    await vi.advanceTimersByTimeAsync(UI_TICK_MS * 4);
    expect(controller.flushes).toBe(5);
    feed.stop();
  });

  it('stop clears every timer and Redis listener; nothing runs or is published after it', async () => {
    const { feed, pipeline, health, controller, services } = setup();
    feed.start();
    feed.attach(services());
    expect(vi.getTimerCount()).toBe(6);
    expect(pipeline.redis.listenerCount('error')).toBe(1);
    feed.stop();
    expect(vi.getTimerCount()).toBe(0);
    for (const event of ['ready', 'error', 'reconnecting']) expect(pipeline.redis.listenerCount(event)).toBe(0);
    const { flushes, partitionReads } = controller;
    const reads = pipeline.userReads;
    pipeline.redis.emit('ready');
    await vi.advanceTimersByTimeAsync(MEMORY_MS);
    expect(health).toEqual([]);
    expect([controller.flushes, controller.partitionReads, pipeline.userReads]).toEqual([
      flushes,
      partitionReads,
      reads,
    ]);
  });

  it('attach after stop (a quit while the pipeline opened) starts nothing', () => {
    const { feed, services } = setup();
    feed.start();
    feed.stop();
    feed.attach(services());
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('the dashboard feed: users, lag and partitions', () => {
  it('users read on their timer reach the store with the next tick; an unchanged read changes nothing', async () => {
    const { feed, store, pipeline, services } = setup({ embedded: true });
    pipeline.records = [user('user-01'), user('user-02')];
    store.setState({ selected: 5 });
    feed.start();
    feed.attach(services());
    // The first read at attach; the tick after it applies the rows and keeps the selection on a row.
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState().users.map((u) => u.id)).toEqual(['user-01', 'user-02']);
    expect(store.getState().selected).toBe(1);
    const rows = store.getState().users;
    await vi.advanceTimersByTimeAsync(USERS_MS);
    expect(pipeline.userReads).toBe(2);
    expect(store.getState().users).toBe(rows);
    pipeline.records = [user('user-01', 'off'), user('user-02')];
    await vi.advanceTimersByTimeAsync(USERS_MS);
    expect(store.getState().users[0]!.prefs.sms).toBe('off');
    feed.stop();
  });

  it('a read that a key press overtook (the preferences version moved) is not applied', async () => {
    const { feed, store, pipeline, controller, services } = setup({ embedded: true });
    pipeline.records = [user('user-01')];
    feed.start();
    feed.attach(services());
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState().users[0]!.prefs.sms).toBe('on');
    // The key pressed while the read is in flight: what it read is older than the key.
    let release: () => void = () => undefined;
    pipeline.gate = new Promise((r) => (release = r));
    pipeline.records = [user('user-01', 'off')];
    await vi.advanceTimersByTimeAsync(USERS_MS);
    controller.prefsVersion++;
    store.setState({ users: [{ ...store.getState().users[0]!, prefs: { sms: 'on' } }] });
    release();
    pipeline.gate = undefined;
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState().users[0]!.prefs).toEqual({ sms: 'on' });
    // The next read, at the new version, is applied.
    await vi.advanceTimersByTimeAsync(USERS_MS);
    expect(store.getState().users[0]!.prefs.sms).toBe('off');
    feed.stop();
  });

  it('a read done before a key press but not yet taken by the tick is dropped, and the next one applied', async () => {
    const { feed, store, pipeline, controller, services } = setup({ embedded: true });
    pipeline.records = [user('user-01')];
    feed.start();
    feed.attach(services());
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    // At 500 ms the tick runs first, then the read: what it read waits for the tick at 600 ms.
    pipeline.records = [user('user-01', 'off')];
    await vi.advanceTimersByTimeAsync(USERS_MS - UI_TICK_MS);
    expect(pipeline.userReads).toBe(2);
    controller.prefsVersion++;
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState().users[0]!.prefs.sms).toBe('on');
    // Dropped, it is read again whatever it holds (the same rows), and applied.
    await vi.advanceTimersByTimeAsync(USERS_MS);
    expect(store.getState().users[0]!.prefs.sms).toBe('off');
    feed.stop();
  });

  it('no users are read while Redis is not ready', async () => {
    const { feed, pipeline, services } = setup();
    feed.attach(services());
    await vi.advanceTimersByTimeAsync(USERS_MS * 3);
    expect(pipeline.userReads).toBe(0);
    pipeline.redis.status = 'ready';
    await vi.advanceTimersByTimeAsync(USERS_MS);
    expect(pipeline.userReads).toBe(1);
    feed.stop();
  });

  it('lag is read only while the consumer runs, and reaches the store with the next tick', async () => {
    const { feed, store, pipeline, services } = setup({ embedded: true });
    feed.start();
    feed.attach(services());
    await vi.advanceTimersByTimeAsync(LAG_MS * 2);
    expect(pipeline.lagReads).toBe(0);
    expect(store.getState().lag).toBeNull();
    pipeline.consumer = {};
    await vi.advanceTimersByTimeAsync(LAG_MS);
    expect(pipeline.lagReads).toBe(1);
    await vi.advanceTimersByTimeAsync(UI_TICK_MS);
    expect(store.getState()).toMatchObject({ lag: 42, partitionCount: 3 });
    feed.stop();
  });

  it('the partitions view is refreshed every second once attached', async () => {
    const { feed, controller, services } = setup({ embedded: true });
    feed.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(controller.partitionReads).toBe(0);
    feed.attach(services());
    await vi.advanceTimersByTimeAsync(3000);
    expect(controller.partitionReads).toBe(3);
    feed.stop();
  });
});

describe('the dashboard feed: service health goes out as telemetry only', () => {
  it('embedded: both services connected, and no Redis listener', () => {
    const { feed, pipeline, health, collector, services } = setup({ embedded: true });
    feed.attach(services());
    expect(health.map((h) => [h.service, h.state, h.detail])).toEqual([
      ['kafka', 'connected', 'embedded'],
      ['redis', 'connected', 'embedded'],
    ]);
    expect(collector.health('redis')).toMatchObject({ state: 'connected', detail: 'embedded' });
    expect(pipeline.redis.listenerCount('ready')).toBe(0);
    feed.stop();
  });

  it("Redis's ready, error and reconnecting events become health outcomes the collector shows", () => {
    const { feed, pipeline, health, collector, services } = setup();
    feed.attach(services());
    pipeline.redis.emit('error', new Error('connect ECONNREFUSED'));
    expect(collector.health('redis')).toMatchObject({
      state: 'error',
      detail: `redis://cache:6379: connect ECONNREFUSED; ${HINT}`,
    });
    pipeline.redis.emit('ready');
    pipeline.redis.status = 'ready';
    expect(collector.health('redis')).toMatchObject({ state: 'connected', detail: '' });
    // Reconnecting while ready says nothing; while not ready it is an error.
    pipeline.redis.emit('reconnecting');
    pipeline.redis.status = 'reconnecting';
    pipeline.redis.emit('reconnecting');
    expect(health.map((h) => `${h.service} ${h.state}`)).toEqual(['redis error', 'redis connected', 'redis error']);
    expect(collector.health('redis').detail).toBe(`redis://cache:6379 unreachable, reconnecting; ${HINT}`);
    feed.stop();
  });

  it('no broker answering the probe is a Kafka error; one answering again is a recovery once the consumer runs', async () => {
    const probes = [{ state: 'closed', detail: 'kafka:9092 refused' }];
    const { feed, pipeline, health, collector, services } = setup();
    feed.attach(services(probes));
    await vi.advanceTimersByTimeAsync(PROBE_MS);
    expect(collector.health('kafka')).toMatchObject({
      state: 'error',
      detail: `kafka:9092 not answering (kafka:9092 refused); ${HINT}`,
    });
    const since = collector.health('kafka').since;
    await vi.advanceTimersByTimeAsync(PROBE_MS);
    expect(collector.health('kafka').since).toBe(since);
    probes[0] = { state: 'answers', detail: 'broker' };
    await vi.advanceTimersByTimeAsync(PROBE_MS);
    expect(collector.health('kafka').state).toBe('error');
    pipeline.consumer = {};
    await vi.advanceTimersByTimeAsync(PROBE_MS);
    expect(collector.health('kafka')).toMatchObject({ state: 'connected', detail: 'broker answers again' });
    await vi.advanceTimersByTimeAsync(PROBE_MS);
    expect(health.filter((h) => h.service === 'kafka').map((h) => h.state)).toEqual(['error', 'error', 'connected']);
    feed.stop();
  });

  it('embedded: the brokers are never probed', async () => {
    const { feed, services } = setup({ embedded: true });
    const probe = vi.fn(() => Promise.resolve([]));
    feed.attach({ ...services(), probeBrokers: probe });
    await vi.advanceTimersByTimeAsync(PROBE_MS * 2);
    expect(probe).not.toHaveBeenCalled();
    feed.stop();
  });
});
