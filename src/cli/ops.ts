/** `--metrics-port` / `--metrics-host` for the commands that run a consumer: the endpoints start first. */
import { resolveMetrics, type MetricsFlags } from '../config/metrics.js';
import type { OpsServer } from '../app/ops-server.js';

export type OpsFlags = MetricsFlags;

/** The endpoints, listening, when a port is given (checked: a bad value is a usage error, exit 2). */
export async function startOps(flags: OpsFlags): Promise<OpsServer | undefined> {
  const settings = resolveMetrics(flags);
  if (!settings) return undefined;
  // Loaded only when asked for: prom-client is no part of a launch without metrics.
  const { OpsServer } = await import('../app/ops-server.js');
  return OpsServer.listen(settings);
}

/** A printer whose stop closes the endpoints too (the last thing a stopping command does). */
export function withOps<P extends { stop(): void }>(printer: P, ops: OpsServer | undefined): P {
  if (!ops) return printer;
  const stop = printer.stop.bind(printer);
  printer.stop = () => {
    stop();
    void ops.close();
  };
  return printer;
}
