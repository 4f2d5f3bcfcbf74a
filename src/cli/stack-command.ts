/** `eventstream-tui stack up | down | status` */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isSentinelUrl, parseReplicaPorts, resolveConfig, type ConfigFlags } from '../config/config.js';
import { KAFKA_NODE_COUNTS } from '../stack/kafka-runtime.js';
import { stackPaths } from '../stack/paths.js';
import { streamProgress } from '../stack/progress.js';
import {
  stackDown,
  stackStatus,
  stackUp,
  type DownOutcome,
  type ServiceStatus,
  type UpOutcome,
} from '../stack/stack.js';
import type { ServiceName } from '../stack/state.js';
import { safeJson } from '../text/safe-json.js';
import { sanitize } from '../text/sanitize.js';
import { EXIT } from './exit-codes.js';
import { guarded, UsageError } from './guarded.js';
import { asArgumentError, brokersOption, redisOption, redisPasswordFileOption } from './options.js';

const SERVICES: ServiceName[] = ['kafka', 'redis'];

function pickServices(names: string[]): ServiceName[] {
  if (names.length === 0) return SERVICES;
  return names.map((n) => {
    if (n !== 'kafka' && n !== 'redis') throw new UsageError(`unknown service "${n}": expected kafka or redis`);
    return n;
  });
}

/** --kafka-nodes: 1 (one broker) or 3 (a local cluster); anything else is a usage error (exit 2). */
export function parseKafkaNodes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !(KAFKA_NODE_COUNTS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(
      `--kafka-nodes must be ${KAFKA_NODE_COUNTS.join(' or ')} (one broker, or a cluster that survives the loss of one node), not "${value}"`,
    );
  }
  return n;
}

/** After a cluster's `up`: the --brokers every other command should be given (any node may be the one down). */
export function clusterBrokersLine(outcomes: UpOutcome[]): string | undefined {
  const nodes = outcomes.filter((o) => o.service === 'kafka' && o.node);
  if (nodes.length < 2) return undefined;
  const list = nodes.map((o) => o.address).join(',');
  return `Kafka cluster of ${nodes.length} nodes: give the other commands --brokers ${list} (or KAFKA_BROKERS=${list})`;
}

function describeUp(o: UpOutcome): string {
  const name =
    o.service === 'kafka'
      ? o.node
        ? `Kafka node ${o.node.id} of ${o.node.of}`
        : 'Kafka'
      : o.role
        ? `Redis ${o.role}`
        : 'Redis';
  switch (o.action) {
    case 'external':
      return `${name} ${o.address}: already answering (not started by eventstream-tui; left alone)`;
    case 'already-running':
      return `${name} ${o.address}: already running (started earlier by eventstream-tui, pid ${o.pid}; log ${o.log})`;
    case 'started':
      return `${name} ${o.address}: started (pid ${o.pid}; log ${o.log})`;
  }
}

function describeDown(o: DownOutcome): string {
  const name = o.service === 'kafka' ? 'Kafka' : 'Redis';
  const flag = o.service === 'kafka' ? '--brokers' : '--redis';
  const text = {
    stopped: `stopped (pid ${o.pid})`,
    killed: `did not stop in time and was killed (pid ${o.pid})`,
    'not-running': `was no longer running (pid ${o.pid})`,
    'not-ours': 'not started by eventstream-tui: left alone',
  }[o.result];
  const elsewhere = o.elsewhere?.length
    ? ` (it started ${name} at ${o.elsewhere.join(', ')}: name that address with ${flag} to stop it)`
    : '';
  return `${name} ${o.address}: ${text}${elsewhere}`;
}

export function formatStatus(rows: ServiceStatus[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.service === 'kafka' ? 'Kafka' : 'Redis'}  ${r.address}`);
    out.push(`  reachable  ${r.reachable ? 'yes' : `no (${sanitize(r.detail)})`}`);
    if (r.role) {
      const leads = r.leads ? `, leads ${r.leads.partitions} of ${r.leads.of} partitions` : '';
      out.push(`  role       ${sanitize(r.role)}${leads}`);
    }
    if (r.reachable) out.push(`  version    ${r.version ?? 'unknown'}`);
    out.push(`  started    ${r.managed ? `by eventstream-tui (pid ${r.pid})` : r.reachable ? 'externally' : '-'}`);
    out.push(`  log        ${r.log ?? (r.reachable ? '(external: not ours)' : '-')}`);
  }
  return out.join('\n');
}

export function stackCommand(): Command {
  const stack = new Command('stack').description(
    'start, stop and inspect the local Apache Kafka (KRaft) and Redis the pipeline runs on',
  );
  const withConn = (cmd: Command): Command =>
    cmd.addOption(brokersOption()).addOption(redisOption()).addOption(redisPasswordFileOption());

  withConn(
    stack
      .command('up')
      .argument('[service...]', 'kafka and/or redis (default both)')
      .addOption(
        new Option(
          '--redis-replica <primary-port>,<replica-port>',
          'with --redis redis+sentinel://host:port[,host:port,host:port]/<name>: start a Redis primary and one replica on these ports, and a Sentinel on each address of the URL (docs/stack.md)',
        ).argParser(asArgumentError(parseReplicaPorts)),
      )
      .addOption(
        new Option(
          '--kafka-nodes <n>',
          'Kafka nodes to start: 1, or 3 for a local cluster (node i on the broker port + 2i, its controller on + 2i + 1; replication 3, min.insync.replicas 2)',
        )
          .argParser(parseKafkaNodes)
          .default(1),
      )
      .description('use the Kafka and Redis that answer at the configured addresses; start local ones where none does'),
  ).action(async (names: string[], flags: ConfigFlags & { redisReplica?: string; kafkaNodes: number }) => {
    await guarded(async () => {
      const config = resolveConfig(flags);
      if (flags.redisReplica !== undefined && !isSentinelUrl(config.redisUrl))
        throw new UsageError(
          '--redis-replica starts a primary, its replica and Sentinels: name them with --redis redis+sentinel://127.0.0.1:<sentinel-port>/<name> (docs/stack.md)',
        );
      const outcomes = await stackUp(
        {
          config,
          paths: stackPaths(),
          progress: streamProgress(process.stderr),
          ...(flags.redisReplica !== undefined ? { redisReplica: parseReplicaPorts(flags.redisReplica) } : {}),
          kafkaNodes: flags.kafkaNodes,
        },
        pickServices(names).sort((a) => (a === 'redis' ? -1 : 1)),
      );
      for (const o of outcomes) process.stdout.write(`${describeUp(o)}\n`);
      const brokers = clusterBrokersLine(outcomes);
      if (brokers) process.stdout.write(`${brokers}\n`);
      return 0;
    });
  });

  withConn(
    stack
      .command('down')
      .argument('[service...]', 'kafka and/or redis (default both)')
      .description(
        'stop what `stack up` started at the configured addresses (by its recorded pid; a local cluster named by its first node: every node); services it did not start, or started at another address, are left running',
      ),
  ).action(async (names: string[], flags: ConfigFlags) => {
    await guarded(async () => {
      const outcomes = await stackDown(
        { paths: stackPaths(), progress: streamProgress(process.stderr), config: resolveConfig(flags) },
        pickServices(names),
      );
      for (const o of outcomes) process.stdout.write(`${describeDown(o)}\n`);
      return 0;
    });
  });

  withConn(
    stack
      .command('status')
      .option('--json', 'print JSON instead of text')
      .description(
        'for each service (each node of a local Kafka cluster): address, reachable, role, server version, started by us or external, log file (exit 5 if one is down)',
      ),
  ).action(async (flags: ConfigFlags & { json?: boolean }) => {
    await guarded(async () => {
      const rows = await stackStatus({ config: resolveConfig(flags), paths: stackPaths() });
      process.stdout.write(flags.json ? `${safeJson(rows, 2)}\n` : `${formatStatus(rows)}\n`);
      return rows.every((r) => r.reachable) ? EXIT.ok : EXIT.serviceDown;
    });
  });
  return stack;
}
