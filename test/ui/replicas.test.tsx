/**
 * Issue 25: the status bar and the partitions view (`l`) show each partition's leader and in-sync
 * replicas, and a node going down and coming back shows there within the refresh interval. On the
 * embedded pipeline, its in-process log standing in for a cluster of three nodes (MemoryEventLog's
 * simulateCluster / setNodeUp), through the real controller, layout watch and views.
 */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterView, LayoutWatch } from '../../src/cli/dashboard/cluster.js';
import { DashboardController } from '../../src/cli/dashboard/controller.js';
import { inspectSource } from '../../src/cli/dashboard/inspect.js';
import { tickUpdate } from '../../src/cli/dashboard/tick.js';
import { createLogger } from '../../src/log/logger.js';
import { embeddedBackends, Pipeline, type PipelineSettings } from '../../src/app/runtime.js';
import type { MemoryEventLog } from '../../src/adapters/memory/event-log.js';
import type { TopicLayout } from '../../src/pipeline/event-log.js';
import { Collector } from '../../src/telemetry/collector.js';
import { App } from '../../src/ui/App.js';
import { clusterSummary } from '../../src/ui/replicas.js';
import { createDashboardStore, type DashboardStore } from '../../src/ui/store.js';
import { catalog, makeStore, recordingActions } from './fixtures.js';
import { renderAt, settle, waitForFrame } from './render.js';

/** The layout is read this often in these tests (the dashboard: every 2 s, every second with `l` open). */
const INTERVAL_MS = 150;
/** A change must show within this: the interval, the read, a frame, with room for a loaded machine. */
const WITHIN_MS = INTERVAL_MS * 2 + 1000;
const ESC = '\u001B';

const NODES = [
  { nodeId: 1, host: 'kafka-1.example', port: 9092 },
  { nodeId: 2, host: 'kafka-2.example', port: 9092 },
  { nodeId: 3, host: 'kafka-3.example', port: 9092 },
];

interface Rig {
  store: DashboardStore;
  log: MemoryEventLog;
  frame: () => string;
  /** The last frame with its colours. */
  raw: () => string;
  press: (...keys: string[]) => Promise<void>;
  stop: () => Promise<void>;
}

let rig: Rig | undefined;
afterEach(async () => {
  cleanup();
  await rig?.stop();
  rig = undefined;
});

async function start(
  cluster?: { nodes: typeof NODES; replicationFactor: number },
  columns = 120,
  rows = 40,
): Promise<Rig> {
  const settings: PipelineSettings = {
    brokers: ['embedded'],
    redisUrl: 'redis://embedded',
    topic: 'leaders',
    group: 'leaders-group',
    partitions: 3,
    fromBeginning: true,
    maxBytes: 1024 * 1024,
    latencyMs: 0,
    failureRate: 0,
    dedupeWindowSeconds: 86400,
  };
  const backends = embeddedBackends();
  const log = backends.log as MemoryEventLog;
  const pipeline = new Pipeline(settings, catalog, createLogger({ kind: 'silent' }), backends);
  const collector = new Collector();
  pipeline.telemetry.subscribe(collector.listener);
  await pipeline.ensureTopics();
  if (cluster) log.simulateCluster(cluster.nodes, cluster.replicationFactor);
  await pipeline.startConsumer();
  const store = createDashboardStore({
    info: { brokers: 'embedded', topic: 'leaders', group: 'leaders-group', redisUrl: '', logFile: '', mode: '' },
    channels: catalog.channels.map((c) => ({ name: c.name, label: c.label, toggleKey: c.toggleKey })),
    eventTypes: [...catalog.eventTypes.values()].map((e) => ({ type: e.type, key: e.key, color: e.color })),
  });
  const layout = new LayoutWatch(store, () => () => pipeline.log.topicLayout('leaders'), {
    intervalMs: INTERVAL_MS,
    viewIntervalMs: INTERVAL_MS,
  });
  const source = inspectSource(pipeline, collector);
  const controller = new DashboardController(
    store,
    () => pipeline,
    () => undefined,
    () => source,
    layout,
  );
  // What the dashboard's feed does on its UI tick, and on its view timer.
  const tick = setInterval(() => {
    store.setState(tickUpdate(store.getState(), collector));
    layout.poll();
  }, 50);
  const views = setInterval(() => void controller.refreshPartitions(), 200);
  const r = renderAt(<App store={store} actions={controller} color={true} />, columns, rows);
  await settle();
  return {
    store,
    log,
    frame: r.frame,
    raw: () => r.lastFrame() ?? '',
    press: async (...keys) => {
      for (const k of keys) {
        r.stdin.write(k);
        await settle();
      }
    },
    stop: async () => {
      clearInterval(tick);
      clearInterval(views);
      await pipeline.stop();
    },
  };
}

const lineWith = (frame: string, ...parts: string[]): string | undefined =>
  frame.split('\n').find((l) => parts.every((p) => l.includes(p)));
/** A partition's row in the partitions view (`║ 1 …`). */
const rowOf = (frame: string, partition: number): string | undefined =>
  frame.split('\n').find((l) => new RegExp(`^║ ${partition} `).test(l));
const YELLOW = '\u001b[33m';
const RED = '\u001b[31m';

describe('one node (the embedded log, a single broker)', () => {
  it('the status bar says `Kafka 1 node`, and `l` shows node 1 leading every partition, ISR [1]', async () => {
    rig = await start();
    const { frame, press } = rig;
    const bar = await waitForFrame(frame, (f) => f.includes('Kafka 1 node'), 'the summary');
    // On the group's line, beside the clock; the status bar keeps its two lines.
    expect(lineWith(bar, 'group leaders-group', 'Kafka 1 node')).toMatch(/Kafka 1 node \d\d:\d\d:\d\d/);
    await press('l');
    const view = await waitForFrame(
      frame,
      (f) => f.includes('node 1 in-process  up, leads 3') && f.includes('total lag'),
      'the partitions with their leaders',
    );
    for (const heading of ['partition', 'committed', 'end', 'lag', 'owner', 'events/s', 'leader', 'replicas', 'isr'])
      expect(view).toContain(heading);
    // Nothing wrong: no state column.
    expect(view).not.toMatch(/isr\s+state/);
    for (const p of [0, 1, 2]) expect(rowOf(view, p)).toMatch(/ 1 in-process +1 +1 +║$/);
    expect(view).toContain('1/1 nodes up · 0 under-replicated · 0 offline · read ');
  });
});

describe('three nodes, three replicas each', () => {
  it('a node going down shows as under-replicated partitions and 2/3 nodes within the interval, and coming back clears it', async () => {
    rig = await start({ nodes: NODES, replicationFactor: 3 });
    const { frame, raw, press, log } = rig;
    await waitForFrame(frame, (f) => f.includes('Kafka 3/3 nodes · 0 under-replicated'), 'a healthy cluster');
    await press('l');
    const healthy = await waitForFrame(
      frame,
      (f) => f.includes('node 3 kafka-3.example:9092  up, leads 1'),
      'the nodes named',
    );
    // Partition i is led by node i+1, with the replicas after it in turn (as Kafka places them).
    expect(rowOf(healthy, 0)).toMatch(/ 1 kafka-1\.example:9092 +1,2,3 +1,2,3 +║$/);
    expect(rowOf(healthy, 1)).toMatch(/ 2 kafka-2\.example:9092 +2,3,1 +2,3,1 +║$/);
    expect(rowOf(healthy, 2)).toMatch(/ 3 kafka-3\.example:9092 +3,1,2 +3,1,2 +║$/);

    const down = Date.now();
    log.setNodeUp(2, false);
    const after = await waitForFrame(
      frame,
      (f) => f.includes('Kafka 2/3 nodes · 3 under-replicated'),
      'node 2 down in the status bar',
      WITHIN_MS,
    );
    expect(Date.now() - down).toBeLessThan(WITHIN_MS);
    // Every partition lost its copy on node 2; partition 1's leadership moved to node 3.
    expect(rowOf(after, 0)).toMatch(/ 1 kafka-1\.example:9092 +1,2,3 +1,3 +under-replicated +║$/);
    expect(rowOf(after, 1)).toMatch(/ 3 kafka-3\.example:9092 +2,3,1 +3,1 +under-replicated +║$/);
    expect(after).toMatch(/isr\s+state/);
    expect(after).toContain('node 1 kafka-1.example:9092  up, leads 1');
    expect(after).toContain('node 2 kafka-2.example:9092  down');
    expect(after).toContain('node 3 kafka-3.example:9092  up, leads 2');
    expect(after).toContain('2/3 nodes up · 3 under-replicated · 0 offline');
    // In the warning colour: the summary, and the rows.
    expect(raw()).toContain(`${YELLOW}  Kafka 2/3 nodes · 3 under-replicated`);
    expect(raw()).toMatch(new RegExp(`${YELLOW.replace('[', '\\[')}[^\\n]*under-replicated`));

    const up = Date.now();
    log.setNodeUp(2, true);
    const back = await waitForFrame(
      frame,
      (f) => f.includes('Kafka 3/3 nodes · 0 under-replicated') && !f.includes('under-replicated  '),
      'node 2 back',
      WITHIN_MS,
    );
    expect(Date.now() - up).toBeLessThan(WITHIN_MS);
    expect(rowOf(back, 0)).toMatch(/ 1 kafka-1\.example:9092 +1,2,3 +1,2,3 +║$/);
    expect(back).not.toContain('  down');
  });
});

describe('three nodes, one replica each', () => {
  it('the partition whose only replica is down is offline: no leader, marked, in red, counted in the status bar', async () => {
    rig = await start({ nodes: NODES, replicationFactor: 1 });
    const { frame, raw, press, log } = rig;
    await waitForFrame(frame, (f) => f.includes('Kafka 3/3 nodes · 0 under-replicated'), 'a healthy cluster');
    await press('l');
    await waitForFrame(frame, (f) => /^║ 1 +.* 2 kafka-2\.example:9092 +2 +2 +║$/m.test(f), 'partition 1 on node 2');
    log.setNodeUp(2, false);
    const offline = await waitForFrame(
      frame,
      (f) => f.includes('Kafka 2/3 nodes · 0 under-replicated · 1 offline'),
      'partition 1 offline',
      WITHIN_MS,
    );
    expect(rowOf(offline, 1)).toMatch(/ none +2 +- +OFFLINE +║$/);
    // The leader's id and address in columns of their own width (`none` is the widest id).
    expect(rowOf(offline, 0)).toMatch(/ 1 +kafka-1\.example:9092 +1 +1 +║$/);
    expect(offline).toContain('2/3 nodes up · 0 under-replicated · 1 offline');
    expect(raw()).toContain(`${RED}  Kafka 2/3 nodes · 0 under-replicated · 1 offline`);
    log.setNodeUp(2, true);
    const back = await waitForFrame(
      frame,
      (f) => f.includes('Kafka 3/3 nodes · 0 under-replicated '),
      'back',
      WITHIN_MS,
    );
    expect(rowOf(back, 1)).toMatch(/ 2 kafka-2\.example:9092 +2 +2 +║$/);
  });
});

describe('narrow terminals', () => {
  it.each([
    [80, 24],
    [60, 16],
  ])(
    'at %i×%i every line fits, the summary is whole and each row keeps its leader, ISR and mark',
    async (columns, rows) => {
      rig = await start({ nodes: NODES, replicationFactor: 3 }, columns, rows);
      const { frame, press, log } = rig;
      log.setNodeUp(3, false);
      const bar = await waitForFrame(frame, (f) => f.includes('Kafka 2/3 nodes · 3 under-replicated'), 'the summary');
      const fits = (f: string): void => {
        const lines = f.split('\n');
        expect(lines.length).toBeLessThanOrEqual(rows);
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(columns);
      };
      fits(bar);
      await press('l');
      const view = await waitForFrame(frame, (f) => /^║ 0 .*under-replicated/m.test(f), 'the rows');
      fits(view);
      expect(rowOf(view, 2)).toMatch(/ 1 +3,1,2 +1,2 +under-replicated +║$/);
      await press(ESC);
    },
  );
});

describe('hostile and slow clusters', () => {
  it('a host name with escape sequences is shown escaped, never drawn', async () => {
    rig = await start({
      nodes: [
        { nodeId: 1, host: 'evil\u001b[31m\u001b]0;pwned\u0007', port: 9092 },
        { nodeId: 2, host: 'kafka-2', port: 9092 },
      ],
      replicationFactor: 2,
    });
    const { frame, raw, press } = rig;
    await press('l');
    const view = await waitForFrame(frame, (f) => f.includes('node 1 evil'), 'the nodes');
    expect(view).toContain('evil\\u001b[31m\\u001b]0;pwned\\u0007:9092');
    expect(raw()).not.toContain('\u001b]0;');
    expect(raw()).not.toContain('\u0007');
  });

  it('a read that never answers is said as failed after the deadline; the keys keep answering; the next answer shows', async () => {
    const { store } = makeStore();
    let answer: ((layout: TopicLayout) => void) | undefined;
    let reads = 0;
    const watch = new LayoutWatch(
      store,
      () => () => {
        reads++;
        return new Promise<TopicLayout>((resolve) => (answer = resolve));
      },
      { intervalMs: 50, viewIntervalMs: 50, deadlineMs: 300 },
    );
    const actions = recordingActions();
    const r = renderAt(<App store={store} actions={actions} color={false} />, 120, 40);
    await settle();
    const poll = setInterval(() => watch.poll(), 20);
    try {
      await waitForFrame(r.frame, (f) => f.includes('Kafka nodes ? (no answer in 0.3 s)'), 'the deadline said');
      r.stdin.write('?');
      await waitForFrame(
        () => actions.calls.join('|'),
        (c) => c.includes('help'),
        'a key acting meanwhile',
      );
      // The read under way is not doubled while it hangs.
      expect(reads).toBe(1);
      answer!({
        nodes: [{ nodeId: 1, host: 'localhost', port: 9092 }],
        controller: 1,
        partitions: [{ partition: 0, leader: 1, replicas: [1], isr: [1], offline: [], errorCode: 0 }],
      });
      await waitForFrame(r.frame, (f) => f.includes('Kafka 1 node'), 'the next read');
    } finally {
      clearInterval(poll);
    }
  });
});

describe('the first seconds of a topic just created', () => {
  it('a read refused because the topic is not in the metadata yet says nothing; the next answer shows; after the grace it is an error', async () => {
    const { store } = makeStore();
    let refuse = true;
    const watch = new LayoutWatch(
      store,
      () => () =>
        refuse
          ? Promise.reject(new Error('This server does not host this topic-partition'))
          : Promise.resolve({
              nodes: [{ nodeId: 1, host: 'localhost', port: 9092 }],
              controller: 1,
              partitions: [{ partition: 0, leader: 1, replicas: [1], isr: [1], offline: [], errorCode: 0 }],
            }),
      { intervalMs: 50, viewIntervalMs: 50, deadlineMs: 300 },
    );
    const r = renderAt(<App store={store} actions={recordingActions()} color={false} />, 120, 40);
    await settle();
    const poll = setInterval(() => watch.poll(), 20);
    try {
      await waitForFrame(
        () => String(store.getState().cluster.state),
        (state) => state === 'loading',
        'the refused read taken as not yet',
      );
      expect(r.frame()).not.toContain('does not host');
      expect(r.frame()).not.toContain('Kafka nodes ?');
      refuse = false;
      await waitForFrame(r.frame, (f) => f.includes('Kafka 1 node'), 'the next read');
    } finally {
      clearInterval(poll);
    }
    // Past the grace, or once a layout was read, the same refusal is said.
    refuse = true;
    const later = new LayoutWatch(
      store,
      () => () => Promise.reject(new Error('This server does not host this topic-partition')),
      { intervalMs: 50, viewIntervalMs: 50, deadlineMs: 300 },
    );
    later.poll();
    await waitForFrame(
      () => String(store.getState().cluster.message),
      (m) => m.includes('does not host'),
      'the refusal said once a layout was read',
    );
  });
});

describe('clusterView and clusterSummary', () => {
  const layout = (up: number[], partitions: TopicLayout['partitions']): TopicLayout => ({
    nodes: up.map((nodeId) => ({ nodeId, host: `k${nodeId}`, port: 9092 })),
    controller: up[0] ?? null,
    partitions,
  });
  const p = (partition: number, leader: number, replicas: number[], isr: number[]) => ({
    partition,
    leader,
    replicas,
    isr,
    offline: [],
    errorCode: leader < 0 ? 5 : 0,
  });

  it('counts a node seen before, or named as a replica, that the cluster no longer lists', () => {
    const seen = new Map<number, string>();
    clusterView(layout([1, 2, 3], [p(0, 1, [1], [1])]), seen, 1);
    // Node 3 holds no replica of the topic: it is counted because it was seen.
    const v = clusterView(layout([1], [p(0, 1, [1, 2], [1])]), seen, 2);
    expect(v.nodes).toEqual([
      { id: 1, address: 'k1:9092', up: true },
      { id: 2, address: 'k2:9092', up: false },
      { id: 3, address: 'k3:9092', up: false },
    ]);
    expect(clusterSummary(v)).toEqual({ text: 'Kafka 1/3 nodes · 1 under-replicated', tone: 'warn' });
    // Named only as a replica, never seen: counted, no address.
    const fresh = clusterView(layout([1], [p(0, -1, [4], [])]), new Map(), 3);
    expect(fresh.nodes).toContainEqual({ id: 4, address: '', up: false });
    expect(clusterSummary(fresh)).toEqual({ text: 'Kafka 1/2 nodes · 0 under-replicated · 1 offline', tone: 'bad' });
  });

  it('one node is `Kafka 1 node`; nothing before the first read; a failed read keeps the count it knew', () => {
    const store = createDashboardStore(makeStore().store.getState());
    expect(clusterSummary(store.getState().cluster)).toBeNull();
    const one = clusterView(layout([1], [p(0, 1, [1], [1])]), new Map(), 1);
    expect(clusterSummary(one)).toEqual({ text: 'Kafka 1 node', tone: 'plain' });
    expect(clusterSummary({ ...one, state: 'error', message: 'no answer in 3 s' })).toEqual({
      text: 'Kafka ?/1 nodes (no answer in 3 s)',
      tone: 'warn',
    });
  });
});
