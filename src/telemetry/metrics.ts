/**
 * Prometheus metrics (prom-client), fed from the telemetry bus like the collector: the pipeline
 * publishes outcomes, this counts them. Counting costs a few array increments per outcome; prom-client
 * sees the counts only when scraped (its own `inc` hashes the labels on every call, several hundred ns),
 * through each metric's `collect`. Label values are bounded: a topic, the catalog's channels, the
 * outcome and dead-letter reason lists, the partitions; never a user or event id. Every known label
 * combination is exported from the start at 0.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { DELIVERY_SKIP_REASONS, DELIVERY_STATUSES, type DeliveryOutcome, type Outcome } from './outcomes.js';
import type { OutcomeKind } from './telemetry.js';

/** What the labels are made of: each from its one list (the catalog, the dead-letter reasons). */
export interface MetricLabelSets {
  /** The events topic the consumer reads. */
  topic: string;
  /** The catalog's channels, in order. */
  channels: readonly string[];
  /** Every reason a letter goes to the dead-letter topic (`LETTER_REASONS`). */
  deadLetterReasons: readonly string[];
}

/**
 * `eventstream_deliveries_total`'s `outcome`: a delivery's status, except that a skip counts under its
 * reason (`opted-out`, `throttled`, ...); `skipped` is left for a reason no list names (none today).
 */
export const DELIVERY_OUTCOMES: readonly string[] = [
  ...DELIVERY_STATUSES.filter((s) => s !== 'skipped'),
  ...DELIVERY_SKIP_REASONS,
  'skipped',
];

/** Produce → deliver, seconds: from a few ms (a live consumer) to minutes (a consumer catching up). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

export const SERVICES = ['kafka', 'redis'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The kinds the metrics read (a publisher skips building outcomes nobody reads). */
export const METRIC_KINDS: readonly OutcomeKind[] = ['consumed', 'delivery', 'deadletter', 'schedule'];

/** The metric names this module exports (the Grafana dashboard and alert rules may name only these). */
export const METRIC_NAMES = {
  consumed: 'eventstream_events_consumed_total',
  deliveries: 'eventstream_deliveries_total',
  deadLetters: 'eventstream_dead_letters_total',
  latency: 'eventstream_delivery_latency_seconds',
  lag: 'eventstream_consumer_lag',
  scheduled: 'eventstream_scheduled_pending',
  up: 'eventstream_up',
} as const;

/**
 * Drops what `promtool check metrics` refuses among prom-client's default metrics: gauges named
 * `…_total` (`nodejs_active_handles_total` and its siblings; their per-type gauges stay).
 */
function dropNonCountersNamedTotal(registry: Registry): string[] {
  const dropped: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (name.endsWith('_total') && type !== 'counter') {
      registry.removeSingleMetric(name);
      dropped.push(name);
    }
  }
  return dropped;
}

/**
 * A histogram counted in plain arrays and formatted by prom-client's registry at scrape time (its own
 * Histogram hashes its labels on each `observe`).
 */
class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Upper bounds in ms, the unit observations come in. */
  private readonly boundsMs: Float64Array;
  private readonly counts: Float64Array;
  private sumMs = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bucketsSeconds: readonly number[],
  ) {
    this.boundsMs = Float64Array.from(bucketsSeconds, (s) => s * 1000);
    this.counts = new Float64Array(bucketsSeconds.length);
  }

  observeMs(ms: number): void {
    this.sumMs += ms;
    this.count++;
    const bounds = this.boundsMs;
    for (let i = 0; i < bounds.length; i++) {
      if (ms <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** The shape prom-client's registry formats (`MetricObjectWithValues`). */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  }> {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bucketsSeconds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bucketsSeconds[i]! }, value: cumulative });
    }
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sumMs / 1000 });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sumMs = 0;
    this.count = 0;
  }
}

/** Plain counts per label combination, handed to a prom-client counter when it is scraped. */
class CountedLabels<L extends string> {
  readonly counts: number[] = [];
  private readonly exported: number[] = [];
  private readonly children: { inc(value: number): void }[] = [];

  constructor(
    private readonly counter: Counter<L>,
    combinations: readonly Partial<Record<L, string>>[],
  ) {
    for (const labels of combinations) this.add(labels);
  }

  /** A combination more, at 0 from the next scrape (`inc(0)` makes the series exist); its index. */
  add(labels: Partial<Record<L, string>>): number {
    const child = this.counter.labels(labels);
    child.inc(0);
    this.children.push(child);
    this.counts.push(0);
    this.exported.push(0);
    return this.counts.length - 1;
  }

  /** Called by the counter's `collect`, at scrape time. */
  sync(): void {
    for (let i = 0; i < this.counts.length; i++) {
      const delta = this.counts[i]! - this.exported[i]!;
      if (delta > 0) {
        this.children[i]!.inc(delta);
        this.exported[i] = this.counts[i]!;
      }
    }
  }
}

export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly consumed: CountedLabels<'topic'>;
  private readonly topics: string[];
  private readonly deliveries: CountedLabels<'channel' | 'outcome'>;
  private readonly channelIndex = new Map<string, number>();
  private readonly outcomeIndex = new Map<string, number>();
  private readonly skippedIndex: number;
  private readonly deadLetters: CountedLabels<'reason'>;
  private readonly reasonIndex = new Map<string, number>();
  /** `<reason>: ` of the letters a failed send's outcome announces (published as dead letters of their own). */
  private readonly ownLetterPrefixes: string[];
  private readonly deliveryFailedIndex: number;
  private readonly latency: BucketHistogram;
  private readonly lag: Gauge<'topic' | 'partition'>;
  private readonly up: Gauge<'service'>;
  private scheduledPending = 0;
  /** The default metrics dropped because promtool refuses them. */
  readonly dropped: readonly string[];

  constructor(labels: MetricLabelSets, { defaultMetrics = true } = {}) {
    const registry = this.registry;
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
    this.dropped = dropNonCountersNamedTotal(registry);

    this.topics = [labels.topic];
    const consumedCounter = new Counter({
      name: METRIC_NAMES.consumed,
      help: 'Events consumed (decoded into an envelope), by topic.',
      labelNames: ['topic'],
      registers: [registry],
      collect: () => this.consumed.sync(),
    });
    this.consumed = new CountedLabels(consumedCounter, [{ topic: labels.topic }]);

    labels.channels.forEach((c, i) => this.channelIndex.set(c, i));
    DELIVERY_OUTCOMES.forEach((o, i) => this.outcomeIndex.set(o, i));
    this.skippedIndex = this.outcomeIndex.get('skipped')!;
    const deliveriesCounter = new Counter({
      name: METRIC_NAMES.deliveries,
      help: 'Deliveries settled, by channel and outcome (the status; a skip counts under its reason).',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
      collect: () => this.deliveries.sync(),
    });
    this.deliveries = new CountedLabels(
      deliveriesCounter,
      labels.channels.flatMap((channel) => DELIVERY_OUTCOMES.map((outcome) => ({ channel, outcome }))),
    );

    labels.deadLetterReasons.forEach((r, i) => this.reasonIndex.set(r, i));
    this.deliveryFailedIndex = this.reasonIndex.get('delivery-failed') ?? -1;
    this.ownLetterPrefixes = labels.deadLetterReasons.filter((r) => r !== 'delivery-failed').map((r) => `${r}: `);
    const deadLettersCounter = new Counter({
      name: METRIC_NAMES.deadLetters,
      help: 'Messages written to the dead-letter topic, by reason (dlq-reason).',
      labelNames: ['reason'],
      registers: [registry],
      collect: () => this.deadLetters.sync(),
    });
    this.deadLetters = new CountedLabels(
      deadLettersCounter,
      labels.deadLetterReasons.map((reason) => ({ reason })),
    );

    this.latency = new BucketHistogram(
      METRIC_NAMES.latency,
      'Produce to deliver: the Kafka message timestamp to the send settled (a deferred send: from its due time), seconds.',
      LATENCY_BUCKETS_SECONDS,
    );
    // prom-client's registry formats any metric whose get() answers its shape.
    registry.registerMetric(this.latency as unknown as Metric);

    this.lag = new Gauge({
      name: METRIC_NAMES.lag,
      help: "The group's lag per partition: the high watermark minus the committed offset (read every few seconds).",
      labelNames: ['topic', 'partition'],
      registers: [registry],
    });
    const scheduled = (): number => this.scheduledPending;
    new Gauge({
      name: METRIC_NAMES.scheduled,
      help: 'Deferred sends waiting in the Redis schedule (quiet hours, digests).',
      registers: [registry],
      collect() {
        this.set(scheduled());
      },
    });
    this.up = new Gauge({
      name: METRIC_NAMES.up,
      help: 'Whether the service answered the last probe (1) or not (0).',
      labelNames: ['service'],
      registers: [registry],
    });
    for (const service of SERVICES) this.up.set({ service }, 0);
  }

  /** Subscribe it to the telemetry: `telemetry.subscribe(metrics.listener, METRIC_KINDS)`. */
  readonly listener = (o: Outcome): void => {
    switch (o.kind) {
      case 'delivery':
        this.delivery(o);
        break;
      case 'consumed':
        this.consumedIn(o.topic);
        break;
      case 'deadletter': {
        const i = this.reasonIndex.get(o.reason);
        if (i !== undefined) this.deadLetters.counts[i]!++;
        break;
      }
      case 'schedule':
        this.scheduledPending = o.pending;
        break;
      default:
        break;
    }
  };

  private consumedIn(topic: string | undefined): void {
    if (topic === undefined) return;
    // The consumer reads one topic: the first comparison finds it.
    let i = this.topics.indexOf(topic);
    if (i < 0) {
      this.topics.push(topic);
      i = this.consumed.add({ topic });
    }
    this.consumed.counts[i]!++;
  }

  private delivery(o: DeliveryOutcome): void {
    const channel = this.channelIndex.get(o.channel);
    if (o.status === 'sent') this.latency.observeMs(o.latencyMs);
    else if (o.status === 'failed') this.failedLetter(o.reason);
    if (channel === undefined) return;
    const outcome =
      o.status === 'skipped'
        ? (this.outcomeIndex.get(o.reason ?? '') ?? this.skippedIndex)
        : this.outcomeIndex.get(o.status)!;
    this.deliveries.counts[channel * DELIVERY_OUTCOMES.length + outcome]!++;
  }

  /**
   * A failed send is dead-lettered: as `delivery-failed`, which the pipeline shows as the failed
   * delivery alone; a letter of another reason (`store-error: …`) is published as a dead letter of its
   * own, and counted there.
   */
  private failedLetter(reason: string | null): void {
    if (this.deliveryFailedIndex < 0) return;
    if (reason !== null) for (const prefix of this.ownLetterPrefixes) if (reason.startsWith(prefix)) return;
    this.deadLetters.counts[this.deliveryFailedIndex]!++;
  }

  /** The last probe's answer per service. */
  setUp(service: ServiceName, up: boolean): void {
    this.up.set({ service }, up ? 1 : 0);
  }

  /** The group's lag per partition of `topic`, as last read; partitions no longer listed are dropped. */
  setLag(topic: string, lag: ReadonlyMap<number, number>): void {
    this.lag.reset();
    for (const [partition, value] of lag) this.lag.set({ topic, partition: String(partition) }, value);
  }

  /** The exposition, as `GET /metrics` answers it. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
