/**
 * What the dashboard runs on, decided at launch:
 * - Kafka and Redis that answer at the configured addresses: used as they are;
 * - nothing configured and nothing answering: the local stack is started (its
 *   progress shown inside the dashboard) and stopped again on quit;
 * - the stack cannot start (no Java, no Maven, no redis-server, ...): the
 *   embedded stand-ins, with the reason and the command that gets the real thing;
 * - an address given explicitly (flag or env) that does not answer: an error,
 *   never a silent fallback.
 */
import { checkKafka } from '../../adapters/kafka/probe.js';
import { checkRedis } from '../../adapters/redis/probe.js';
import { explicitServices, redactUrl, type Config, type ConfigFlags } from '../../config/config.js';
import { processEnvironment, type Environment } from '../../config/environment.js';
import type { Logger } from '../../log/logger.js';
import type { Backends, PipelineSettings } from '../../app/runtime.js';
import { StackError } from '../../stack/errors.js';
import type { StackPaths } from '../../stack/paths.js';
import type { Progress } from '../../stack/progress.js';
import type { ServiceName } from '../../stack/state.js';

/** The pipeline's runtime and the stack (kafkajs, ioredis) load after the dashboard's first frame, not before it. */
const runtime = () => import('../../app/runtime.js');
const stack = () => import('../../stack/stack.js');

export interface LaunchFlags extends ConfigFlags {
  /** true: --embedded; false: --no-embedded; undefined: fall back when the stack cannot start. */
  embedded?: boolean;
}

export class LaunchError extends Error {
  override name = 'LaunchError';
}

export type Plan =
  | { kind: 'real' }
  | { kind: 'stack'; services: ServiceName[] }
  | { kind: 'embedded'; reason: string }
  | { kind: 'error'; message: string };

/** Probes the configured services and decides, before the screen is taken. */
export async function planLaunch(
  config: Config,
  flags: LaunchFlags,
  env: Environment = processEnvironment(),
): Promise<Plan> {
  if (flags.embedded === true) return { kind: 'embedded', reason: '--embedded' };
  const explicit = explicitServices(flags, env);
  const kafka = await checkKafka(config.brokers, 3000, config.kafkaSecurity);
  const redis = await checkRedis(config.redisUrl, 3000, config.redisCa);
  if (!kafka.up && explicit.kafka) {
    return {
      kind: 'error',
      message: `Kafka at ${config.brokers.join(',')} does not answer (${kafka.detail}).\n  It was named explicitly (--brokers or KAFKA_BROKERS), so nothing else is tried: start it, or drop the setting to let eventstream-tui start a local one.`,
    };
  }
  if (!redis.up && explicit.redis) {
    return {
      kind: 'error',
      message: `Redis at ${redactUrl(config.redisUrl)} does not answer (${redis.detail}).\n  It was named explicitly (--redis or REDIS_URL), so nothing else is tried: start it, or drop the setting to let eventstream-tui start a local one.`,
    };
  }
  const missing: ServiceName[] = [];
  if (!redis.up) missing.push('redis');
  if (!kafka.up) missing.push('kafka');
  return missing.length === 0 ? { kind: 'real' } : { kind: 'stack', services: missing };
}

/** Why the stack could not start, and the one command that gets the real pipeline. */
export function embeddedReason(error: unknown): { why: string; fix: string } {
  if (error instanceof StackError) {
    const reasons: Partial<Record<string, { why: string; fix: string }>> = {
      JAVA_MISSING: { why: 'no Java for the local Kafka', fix: 'apt-get install openjdk-17-jre-headless' },
      JAVA_TOO_OLD: { why: 'Java older than 17 for the local Kafka', fix: 'apt-get install openjdk-17-jre-headless' },
      MAVEN_MISSING: { why: 'no Maven to fetch Kafka', fix: 'apt-get install maven' },
      MAVEN_UNREACHABLE: {
        why: 'Maven Central unreachable',
        fix: 'eventstream-tui stack up (once the network is back)',
      },
      REDIS_SERVER_MISSING: { why: 'no redis-server', fix: 'apt-get install redis-server' },
    };
    return reasons[error.code] ?? { why: error.message, fix: 'eventstream-tui stack up (it says what is wrong)' };
  }
  return { why: error instanceof Error ? error.message : String(error), fix: 'eventstream-tui stack up' };
}

export function embeddedMode(reason: { why: string; fix: string }): string {
  return `EMBEDDED: ${reason.why}. For the real pipeline: ${reason.fix}`;
}

export interface Launched {
  backends: Backends;
  /** What this launch started and must stop on quit (unless --keep-stack). */
  started: ServiceName[];
  /** '' on the real services; otherwise what the status bar says about the mode. */
  mode: string;
}

/** Carries out the plan; `progress` feeds the dashboard's start-up panel. */
export async function launch(
  plan: Plan,
  flags: LaunchFlags,
  config: Config,
  settings: PipelineSettings,
  logger: Logger,
  progress: Progress,
  where: { paths: StackPaths; env?: Environment },
): Promise<Launched> {
  if (plan.kind === 'error') throw new LaunchError(plan.message);
  if (plan.kind === 'embedded') {
    return {
      backends: (await runtime()).embeddedBackends(),
      started: [],
      mode: embeddedMode({ why: `${plan.reason} was given`, fix: 'eventstream-tui (without --embedded)' }),
    };
  }
  const { detectBackends, embeddedBackends } = await runtime();
  if (plan.kind === 'real') return { backends: await detectBackends(settings, logger), started: [], mode: '' };
  const started: ServiceName[] = [];
  try {
    for (const service of plan.services) {
      const [outcome] = await (
        await stack()
      ).stackUp({ config, paths: where.paths, progress, env: where.env ?? processEnvironment() }, [service]);
      if (outcome?.action === 'started') started.push(service);
    }
    return { backends: await detectBackends(settings, logger), started, mode: '' };
  } catch (error) {
    logger.warn({ err: error }, 'the local stack could not start');
    // Half a stack is no use: stop what this launch started before falling back.
    if (started.length > 0)
      await (await stack()).stackDown({ paths: where.paths, config }, started).catch(() => undefined);
    if (flags.embedded === false) {
      throw new LaunchError(error instanceof StackError ? error.describe().replace(/^error: /, '') : String(error));
    }
    const reason = embeddedReason(error);
    progress.info(`✘ ${reason.why}: running embedded instead`);
    return { backends: embeddedBackends(), started: [], mode: embeddedMode(reason) };
  }
}
