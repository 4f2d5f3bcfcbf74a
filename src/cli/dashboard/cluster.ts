/**
 * The Kafka nodes and the topic's leaders and in-sync replicas, read on a timer for the status bar's
 * summary and the partitions view (`l`). A read is bounded in time: one that does not answer within
 * {@link LAYOUT_DEADLINE_MS} is said as failed (the last layout stays, marked with its time) and the
 * screen never waits for it. One read at a time: the next starts once the one before settled.
 */
import type { TopicLayout } from '../../pipeline/event-log.js';
import { bound } from '../../text/bound.js';
import type { ClusterNode, ClusterView, DashboardState, DashboardStore } from '../../ui/store.js';

/** Between reads, in ms: while only the status bar shows the layout, and while the partitions view does. */
export const LAYOUT_MS = 2000;
export const LAYOUT_VIEW_MS = 1000;
/** How long a read is waited for before it is said as failed. */
export const LAYOUT_DEADLINE_MS = 3000;
/**
 * In the first seconds a topic the pipeline has just created may not be in every broker's metadata yet,
 * or its partitions may have no leader yet: a read failing so then is "not yet", not an error on screen.
 */
export const LAYOUT_STARTUP_GRACE_MS = 15_000;
const NOT_YET =
  /does not host this topic-partition|no leader for this topic-partition|metadata not loaded|not present in metadata/i;

export interface LayoutWatchOptions {
  intervalMs?: number;
  viewIntervalMs?: number;
  deadlineMs?: number;
}

/** `host:port`, or the host alone when there is no port (the in-process log's node). */
const address = (host: string, port: number): string => bound(port > 0 ? `${host}:${port}` : host, 256);

/**
 * The store's view of a layout. `seen`: the address of every node seen so far this session, kept and
 * added to: a node that went down is counted (and named) still, as one that is not up.
 */
export function clusterView(layout: TopicLayout, seen: Map<number, string>, at: number): ClusterView {
  const up = new Set<number>();
  for (const n of layout.nodes) {
    up.add(n.nodeId);
    seen.set(n.nodeId, address(n.host, n.port));
  }
  for (const p of layout.partitions) for (const id of p.replicas) if (!seen.has(id)) seen.set(id, '');
  const nodes: ClusterNode[] = [...seen.entries()]
    .map(([id, where]) => ({ id, address: where, up: up.has(id) }))
    .sort((a, b) => a.id - b.id);
  return {
    state: 'ready',
    message: '',
    at,
    readAt: at,
    nodes,
    controller: layout.controller,
    partitions: layout.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
    })),
  };
}

export class LayoutWatch {
  /** The read under way (it may outlive its deadline): none starts beside it. */
  private inFlight: Promise<unknown> | undefined;
  private lastStart = -Infinity;
  /** When the first read started: the start-up grace counts from it. */
  private firstStart: number | undefined;
  private readonly seen = new Map<number, string>();
  private readonly intervalMs: number;
  private readonly viewIntervalMs: number;
  private readonly deadlineMs: number;

  constructor(
    private readonly store: DashboardStore,
    /** Reads the layout; undefined until the pipeline is open. */
    private readonly reader: () => (() => Promise<TopicLayout>) | undefined,
    options: LayoutWatchOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? LAYOUT_MS;
    this.viewIntervalMs = options.viewIntervalMs ?? LAYOUT_VIEW_MS;
    this.deadlineMs = options.deadlineMs ?? LAYOUT_DEADLINE_MS;
  }

  /** How often the layout is read now: more often while the partitions view shows every partition. */
  private interval(state: DashboardState): number {
    return state.view === 'partitions' ? this.viewIntervalMs : this.intervalMs;
  }

  /** Called on every UI tick (cheap): starts a read when its interval has passed and none is under way. */
  poll(now = Date.now()): void {
    if (this.inFlight) return;
    if (now - this.lastStart < this.interval(this.store.getState())) return;
    const read = this.reader();
    if (!read) return;
    this.lastStart = now;
    this.firstStart ??= now;
    const settled = this.readOnce(read).finally(() => (this.inFlight = undefined));
    this.inFlight = settled;
  }

  /** Reads now (the partitions view opened): unless a read is under way. */
  refresh(): Promise<void> {
    if (this.inFlight) return Promise.resolve();
    this.lastStart = -Infinity;
    this.poll();
    return (this.inFlight ?? Promise.resolve()).then(() => undefined);
  }

  private async readOnce(read: () => Promise<TopicLayout>): Promise<void> {
    const reading = read();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.deadlineMs);
    });
    try {
      const layout = await Promise.race([reading, deadline]);
      if (layout === 'late') {
        this.failed(`no answer in ${this.deadlineMs / 1000} s`);
        // Still under way: the next read waits for it (kafkajs times it out), so reads never pile up; an
        // answer that comes late is still the newest there is.
        const late = await reading.catch(() => undefined);
        if (late) this.store.setState({ cluster: clusterView(late, this.seen, Date.now()) });
        return;
      }
      this.store.setState({ cluster: clusterView(layout, this.seen, Date.now()) });
    } catch (error) {
      this.failed((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(message: string): void {
    const starting = Date.now() - (this.firstStart ?? 0) < LAYOUT_STARTUP_GRACE_MS;
    if (starting && this.store.getState().cluster.readAt === 0 && NOT_YET.test(message)) {
      // The topic just created: read again at the next interval, nothing said meanwhile.
      this.store.setState((s) => ({ cluster: { ...s.cluster, state: 'loading', message: '' } }));
      return;
    }
    this.store.setState((s) => ({
      cluster: { ...s.cluster, state: 'error', message: bound(message, 256), at: Date.now() },
    }));
  }
}
