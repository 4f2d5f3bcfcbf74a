/**
 * The metrics and health endpoints' settings: `--metrics-port` (METRICS_PORT) turns them on, bound to
 * `--metrics-host` (METRICS_HOST; default 127.0.0.1: a port on every interface is the operator's choice).
 */
import { ConfigError } from './config.js';
import { ENV_VARS, processEnvironment, type Environment } from './environment.js';

export interface MetricsSettings {
  host: string;
  port: number;
}

export interface MetricsFlags {
  metricsPort?: string;
  metricsHost?: string;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** A TCP port to listen on, 1..65535. */
export function parseMetricsPort(value: string, name = '--metrics-port'): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new ConfigError(`${name} "${value}" is not a port: a whole number from 1 to 65535`);
  return port;
}

/** A host name or an address (`0.0.0.0`, `::`, `localhost`): letters, digits, `.`, `-`, `:`, `[]`. */
export function parseMetricsHost(value: string, name = '--metrics-host'): string {
  const host = value.trim().replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host.length > 253 || !/^[a-zA-Z0-9.:%_-]+$/.test(host))
    throw new ConfigError(`${name} "${value}" is not a host name or an IP address (for example 0.0.0.0)`);
  return host;
}

/** The endpoints' settings, or undefined when no port is given (off by default). */
export function resolveMetrics(
  flags: MetricsFlags,
  env: Environment = processEnvironment(),
): MetricsSettings | undefined {
  const fromEnv = (name: string): string | undefined =>
    env[name] !== undefined && env[name] !== '' ? env[name] : undefined;
  const host =
    flags.metricsHost !== undefined
      ? parseMetricsHost(flags.metricsHost)
      : fromEnv(ENV_VARS.metricsHost) !== undefined
        ? parseMetricsHost(fromEnv(ENV_VARS.metricsHost)!, ENV_VARS.metricsHost)
        : DEFAULT_METRICS_HOST;
  const port =
    flags.metricsPort !== undefined
      ? parseMetricsPort(flags.metricsPort)
      : fromEnv(ENV_VARS.metricsPort) !== undefined
        ? parseMetricsPort(fromEnv(ENV_VARS.metricsPort)!, ENV_VARS.metricsPort)
        : undefined;
  return port === undefined ? undefined : { host, port };
}
