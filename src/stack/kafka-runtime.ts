/**
 * A real Apache Kafka broker without Docker or a tarball: the jars come from
 * Maven Central through Maven (once, then cached), the broker runs in KRaft
 * mode as one combined broker+controller on the machine's Java.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processEnvironment, type Environment } from '../config/environment.js';
import { StackError } from './errors.js';
import { KAFKA_VERSION, MAVEN_DEPENDENCY_PLUGIN, type StackPaths } from './paths.js';
import { startDetached, tailOfFile, type Detached } from './processes.js';
import { locateMaven, runProgram } from './toolchain.js';

const LOG4J_VERSION = '2.25.3';
const SLF4J_VERSION = '2.0.17';

export function kafkaPom(version = KAFKA_VERSION): string {
  const dep = (g: string, a: string, v: string): string =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>eventstream-tui.local</groupId>',
    `  <artifactId>kafka-runtime</artifactId>`,
    `  <version>${version}</version>`,
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dep('org.apache.kafka', 'kafka_2.13', version),
    // Kafka 4.x logs through SLF4J to log4j2; pin SLF4J 2 so the log4j2 binding is found.
    dep('org.slf4j', 'slf4j-api', SLF4J_VERSION),
    dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J_VERSION),
    dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION),
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/** Reads Maven's output and says what went wrong in words a user can act on. */
export function classifyMavenFailure(output: string): StackError {
  const unreachable =
    /Could not transfer artifact|transfer failed|UnknownHostException|Unknown host|Network is unreachable|Connection refused|Connect to .* failed|No plugin found for prefix|Connection timed out|Read timed out|Temporary failure in name resolution/i;
  const firstError =
    output
      .split('\n')
      .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
      .find((l) => l.startsWith('[ERROR]') && l.length > '[ERROR] '.length) ??
    output.trim().split('\n')[0] ??
    '';
  if (unreachable.test(output)) {
    return new StackError(
      'MAVEN_UNREACHABLE',
      `Maven could not reach its repository to resolve Apache Kafka ${KAFKA_VERSION}`,
      'Check the network or your ~/.m2/settings.xml mirror/proxy, then run `eventstream-tui stack up` again (the jars are resolved once and cached). Or point --brokers at a Kafka you already run.',
      firstError.slice(0, 600),
    );
  }
  return new StackError(
    'MAVEN_FAILED',
    `Maven failed to resolve Apache Kafka ${KAFKA_VERSION}`,
    'Run the command again; if it persists, look at the Maven output below or remove ~/.m2/repository/org/apache/kafka and retry.',
    firstError.slice(0, 600),
  );
}

export function kafkaJarsCached(paths: StackPaths): boolean {
  return existsSync(paths.kafkaLibsComplete) && existsSync(paths.kafkaLibs);
}

/** Resolves the broker's jars into the cache once; later calls return at once without the network. */
export async function ensureKafkaJars(
  paths: StackPaths,
  env: Environment = processEnvironment(),
  extraMavenArgs: string[] = [],
): Promise<'cached' | 'resolved'> {
  if (kafkaJarsCached(paths)) return 'cached';
  const mvn = locateMaven(env);
  mkdirSync(paths.kafkaDist, { recursive: true });
  rmSync(paths.kafkaLibs, { recursive: true, force: true });
  const pom = path.join(paths.kafkaDist, 'pom.xml');
  writeFileSync(pom, kafkaPom());
  const { code, output } = await runProgram(
    mvn,
    [
      '-B',
      '-q',
      '-f',
      pom,
      ...extraMavenArgs,
      `${MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${paths.kafkaLibs}`,
    ],
    env,
  );
  const jars = existsSync(paths.kafkaLibs) ? readdirSync(paths.kafkaLibs).filter((f) => f.endsWith('.jar')) : [];
  if (code !== 0 || !jars.some((j) => j.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
    throw classifyMavenFailure(output);
  }
  writeFileSync(paths.kafkaLibsComplete, `${new Date().toISOString()}\n${jars.length} jars\n`);
  return 'resolved';
}

export interface BrokerPorts {
  host: string;
  port: number;
  controllerPort: number;
}

/** Nodes a local cluster may have: one (the default), or three (a quorum that survives one loss). */
export const KAFKA_NODE_COUNTS = [1, 3] as const;

/**
 * Node `index` (0-based) of a local cluster whose first broker listens on `basePort`: its broker on
 * basePort + 2·index, its controller on the port after (9092/9093, 9094/9095, 9096/9097).
 */
export function clusterNodePorts(host: string, basePort: number, index: number): BrokerPorts {
  return { host, port: basePort + 2 * index, controllerPort: basePort + 2 * index + 1 };
}

/** One node of a local cluster of several: its id (1-based) and every node's ports (the static voters). */
export interface ClusterNode {
  nodeId: number;
  nodes: BrokerPorts[];
}

/** `controller.quorum.voters` of a local cluster: `1@host:9093,2@host:9095,3@host:9097`. */
export function quorumVoters(nodes: BrokerPorts[]): string {
  return nodes.map((n, i) => `${i + 1}@${n.host}:${n.controllerPort}`).join(',');
}

export function serverProperties(ports: BrokerPorts, dataDir: string, cluster?: ClusterNode): string {
  const { host, port, controllerPort } = ports;
  if (cluster) return clusterServerProperties(ports, dataDir, cluster);
  return [
    '# Written by eventstream-tui stack up: one combined KRaft broker+controller for local use.',
    'process.roles=broker,controller',
    'node.id=1',
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `controller.quorum.bootstrap.servers=${host}:${controllerPort}`,
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    // One node: internal topics must not ask for replicas that cannot exist (kafkajs#1752).
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A consumer group's first join should not wait 3 s for others that are not coming.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

/**
 * A node of a local cluster: combined broker+controller with a static quorum of every node's
 * controller, every topic (the pipeline's and the internal ones) on three replicas, a write
 * acknowledged by all in-sync replicas needing two of them.
 */
function clusterServerProperties(ports: BrokerPorts, dataDir: string, cluster: ClusterNode): string {
  const { host, port, controllerPort } = ports;
  const replicas = cluster.nodes.length;
  const minIsr = Math.min(2, replicas);
  return [
    `# Written by eventstream-tui stack up: node ${cluster.nodeId} of a local KRaft cluster of ${replicas} combined broker+controllers.`,
    'process.roles=broker,controller',
    `node.id=${cluster.nodeId}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `controller.quorum.voters=${quorumVoters(cluster.nodes)}`,
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    // A leader never moves to a replica that missed acknowledged writes.
    'unclean.leader.election.enable=false',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

export function log4jProperties(): string {
  return [
    'status = error',
    'appender.out.type = Console',
    'appender.out.name = OUT',
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.out.ref = OUT',
    'logger.kafka.name = kafka',
    'logger.kafka.level = INFO',
    'logger.state.name = state.change.logger',
    'logger.state.level = WARN',
    '',
  ].join('\n');
}

function classpath(paths: StackPaths): string {
  return `${paths.kafkaLibs}/*`;
}

/** The marker a cluster node's folder keeps: which cluster layout its data was formatted for. */
export function clusterLayout(cluster: ClusterNode | undefined): string {
  return cluster
    ? `nodes=${cluster.nodes.length} node.id=${cluster.nodeId} voters=${quorumVoters(cluster.nodes)}\n`
    : '';
}

/** The cluster id a formatted data folder holds, if any. */
export function formattedClusterId(dataDir: string): string | undefined {
  try {
    return /^cluster\.id=(\S+)$/m.exec(readFileSync(path.join(dataDir, 'meta.properties'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** A new KRaft cluster id from the storage tool (`log4j`: its logging settings, where a node has them). */
export async function newClusterId(
  java: string,
  paths: StackPaths,
  env: Environment = processEnvironment(),
  log4j?: string,
): Promise<string> {
  const args = [...(log4j ? [log4j] : []), '-cp', classpath(paths), 'kafka.tools.StorageTool', 'random-uuid'];
  const id = await runProgram(java, args, env);
  const clusterId = id.output.trim().split('\n').pop()?.trim() ?? '';
  if (id.code !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
    throw new StackError(
      'KAFKA_NOT_READY',
      'could not generate a KRaft cluster id with the Kafka storage tool',
      `Check the Java installation and the cached jars in ${paths.kafkaLibs} (delete ${paths.kafkaDist} to resolve them again).`,
      id.output.trim().split('\n').slice(-10).join('\n'),
    );
  }
  return clusterId;
}

/**
 * Formats the KRaft storage once; a formatted data folder is kept (topics and offsets survive restarts).
 * A node of a cluster (`cluster`) is formatted with the static quorum of every node and the cluster id
 * `clusterId` (shared by its nodes); a folder formatted for another layout (one node, another cluster)
 * is refused rather than started into a quorum it does not belong to.
 */
export async function ensureFormatted(
  java: string,
  paths: StackPaths,
  ports: BrokerPorts,
  env: Environment = processEnvironment(),
  cluster?: { node: ClusterNode; clusterId: () => Promise<string> },
): Promise<'formatted' | 'already'> {
  const dirs = paths.kafka(ports.port);
  mkdirSync(dirs.dir, { recursive: true });
  const layoutFile = path.join(dirs.dir, 'cluster.layout');
  const formatted = existsSync(path.join(dirs.data, 'meta.properties'));
  const layout = existsSync(layoutFile) ? readFileSync(layoutFile, 'utf8') : '';
  if (formatted && layout !== clusterLayout(cluster?.node)) {
    const was = layout ? `a cluster (${layout.trim()})` : 'one node alone';
    const now = cluster ? `node ${cluster.node.nodeId} of ${cluster.node.nodes.length}` : 'one node alone';
    throw new StackError(
      'KAFKA_LAYOUT',
      `the Kafka data in ${dirs.data} was formatted for ${was}, not for ${now}`,
      `Remove it (\`rm -rf ${dirs.dir}\`: its topics are lost) or run the ${cluster ? 'cluster' : 'broker'} on other ports with --brokers localhost:<port>.`,
    );
  }
  writeFileSync(dirs.config, serverProperties(ports, dirs.data, cluster?.node));
  writeFileSync(dirs.log4j, log4jProperties());
  if (formatted) return 'already';
  const cp = classpath(paths);
  const log4j = `-Dlog4j2.configurationFile=${dirs.log4j}`;
  const clusterId = cluster ? await cluster.clusterId() : await newClusterId(java, paths, env, log4j);
  const mode = cluster ? [] : ['--standalone'];
  const fmt = await runProgram(
    java,
    [log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', dirs.config, ...mode],
    env,
  );
  if (fmt.code !== 0) {
    throw new StackError(
      'KAFKA_NOT_READY',
      `formatting the KRaft storage in ${dirs.data} failed`,
      `Delete ${dirs.dir} and run \`eventstream-tui stack up\` again.`,
      fmt.output.trim().split('\n').slice(-10).join('\n'),
    );
  }
  if (cluster) writeFileSync(layoutFile, clusterLayout(cluster.node));
  return 'formatted';
}

/** The heap of a node of a cluster: three JVMs share the machine. */
export const CLUSTER_NODE_HEAP = '384m';

export function startKafka(java: string, paths: StackPaths, port: number, maxHeap = '512m'): Detached {
  const dirs = paths.kafka(port);
  return startDetached(
    java,
    [
      '-Xms256m',
      `-Xmx${maxHeap}`,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${dirs.log4j}`,
      '-Dkafka.logs.dir=' + dirs.dir,
      '-cp',
      classpath(paths),
      'kafka.Kafka',
      dirs.config,
    ],
    dirs.log,
    dirs.dir,
  );
}

export function kafkaNotReady(address: string, log: string, why: string): StackError {
  return new StackError(
    'KAFKA_NOT_READY',
    `the Kafka broker at ${address} ${why}`,
    `Its full log is ${log}. A stale data folder can be removed with \`rm -rf ${path.dirname(log)}\` before trying again.`,
    tailOfFile(log, 15),
  );
}
