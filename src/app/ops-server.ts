/**
 * The operations endpoints (`--metrics-port`): `GET /metrics` (Prometheus text), `/livez` and `/healthz`
 * (the process and its event loop answer), `/readyz` (200 when Kafka and Redis answer and this member
 * holds its partitions; 503 with the reason as JSON otherwise). docs/operations.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSettings } from '../config/metrics.js';
import { LETTER_REASONS } from '../pipeline/ports.js';
import { METRIC_KINDS, PipelineMetrics } from '../telemetry/metrics.js';
import type { Pipeline } from './runtime.js';
import { ServiceWatch, type ServiceWatchOptions } from './service-watch.js';

export class OpsServerError extends Error {
  override name = 'OpsServerError';
}

/** The metrics of a pipeline, labelled from its catalog, its topic and the one list of dead-letter reasons. */
export function pipelineMetrics(pipeline: Pipeline): PipelineMetrics {
  return new PipelineMetrics({
    topic: pipeline.settings.topic,
    channels: pipeline.catalog.channels.map((c) => c.name),
    deadLetterReasons: LETTER_REASONS,
  });
}

export class OpsServer {
  private attached:
    { pipeline: Pipeline; metrics: PipelineMetrics; watch: ServiceWatch; unsubscribe: () => void } | undefined;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly server: Server,
    readonly settings: MetricsSettings,
  ) {}

  /**
   * Listening before the pipeline exists, so that `/readyz` says 503 (starting) from the first moment
   * and a port in use is an error before anything else starts.
   */
  static async listen(settings: MetricsSettings): Promise<OpsServer> {
    const server = createServer();
    const ops = new OpsServer(server, settings);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void ops.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
    // Keep-alive connections of a scraper must not hold the process open at exit.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new OpsServerError(
            `cannot serve metrics on ${settings.host}:${settings.port} (--metrics-port / METRICS_PORT): ${error.code ?? error.message}`,
          ),
        ),
      );
      server.listen(settings.port, settings.host, () => resolve());
    });
    server.unref();
    return ops;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Counts the pipeline's outcomes from now on and watches its services. */
  attach(pipeline: Pipeline, options: ServiceWatchOptions = {}): PipelineMetrics {
    const metrics = pipelineMetrics(pipeline);
    const unsubscribe = pipeline.telemetry.subscribe(metrics.listener, METRIC_KINDS);
    const watch = new ServiceWatch(pipeline, metrics, options);
    watch.start();
    this.attached = { pipeline, metrics, watch, unsubscribe };
    return metrics;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET only\n');
      return;
    }
    switch (path) {
      case '/metrics': {
        if (!this.attached) {
          json(res, 503, { status: 'starting' });
          return;
        }
        const { contentType, body } = await this.attached.metrics.exposition();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return;
      }
      case '/livez':
      case '/healthz':
        // Answering at all is the proof: the process runs and its event loop turns.
        json(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) });
        return;
      case '/readyz': {
        if (!this.attached) {
          json(res, 503, { status: 'not ready', reason: 'starting: the pipeline is not created yet' });
          return;
        }
        const r = this.attached.watch.readiness();
        json(res, r.ready ? 200 : 503, {
          status: r.ready ? 'ready' : 'not ready',
          ...(r.reason !== undefined ? { reason: r.reason } : {}),
          kafka: r.kafka,
          redis: r.redis,
          partitions: r.partitions,
        });
        return;
      }
      default:
        res
          .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
          .end('not found: /metrics, /livez, /readyz, /healthz\n');
    }
  }

  async close(): Promise<void> {
    if (this.attached) {
      this.attached.unsubscribe();
      await this.attached.watch.stop();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(`${JSON.stringify(body)}\n`);
}
