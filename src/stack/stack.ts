/**
 * `stack up | down | status`: use the Kafka and Redis that answer at the
 * configured addresses, start local ones where none does, and stop only what
 * was started here.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  hostPort,
  parseSentinelUrl,
  redactUrl,
  redisHostPort,
  type Config,
  type SentinelUrl,
} from '../config/config.js';
import { processEnvironment, type Environment } from '../config/environment.js';
import { createKafka } from '../adapters/kafka/client.js';
import { probeKafka } from '../adapters/kafka/probe.js';
import { portInUse, type ProbeResult } from '../adapters/probe.js';
import { probeRedis } from '../adapters/redis/probe.js';
import { createLogger } from '../log/logger.js';
import { StackError } from './errors.js';
import {
  CLUSTER_NODE_HEAP,
  clusterLayout,
  clusterNodePorts,
  ensureFormatted,
  ensureKafkaJars,
  formattedClusterId,
  newClusterId,
  kafkaJarsCached,
  kafkaNotReady,
  startKafka,
  type BrokerPorts,
  type ClusterNode,
} from './kafka-runtime.js';
import { KAFKA_VERSION, type StackPaths } from './paths.js';
import { isOurProcess, startDetached, stopPid, tailOfFile, waitUntil, type Detached } from './processes.js';
import { silentProgress, type Progress, type ProgressStep } from './progress.js';
import {
  clusterRecords,
  findRecord,
  forgetStarted,
  readState,
  recordStarted,
  updateState,
  type RedisRole,
  type ServiceName,
  type ServiceRecord,
} from './state.js';
import { locateJava, locateRedisServer, runProgram } from './toolchain.js';

export interface StackOptions {
  config: Pick<Config, 'brokers' | 'redisUrl'>;
  paths: StackPaths;
  env?: Environment;
  progress?: Progress;
  /** How long a started service may take to answer. */
  readyTimeoutMs?: number;
  /** Extra Maven arguments (a settings file, an offline flag); used by tests. */
  mavenArgs?: string[];
  /**
   * `--redis-replica <primary-port>,<replica-port>`: with a Sentinel URL, start a primary and one
   * replica on these ports and a Sentinel on each address of the URL.
   */
  redisReplica?: { primary: number; replica: number };
  /**
   * Kafka nodes to run (default 1): 3 is a local cluster of combined broker+controllers, node i on the
   * configured port + 2i (controller + 2i + 1), every topic on three replicas.
   */
  kafkaNodes?: number;
}

const PROCESS_MARKER: Record<ServiceName, string> = { kafka: 'kafka.Kafka', redis: 'redis-server' };

export type Plan =
  | { action: 'use-external' }
  | { action: 'use-ours'; record: ServiceRecord }
  /** Ours and alive but not answering yet (starting, or a cluster node waiting on its quorum): wait for it. */
  | { action: 'wait-ours'; record: ServiceRecord }
  | { action: 'start' }
  | { action: 'error'; error: StackError };

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0']);
export const isLocalHost = (host: string): boolean => LOCAL_HOSTS.has(host.toLowerCase());

const SERVICE_LABEL: Record<ServiceName, string> = { kafka: 'Kafka', redis: 'Redis' };
const FLAG: Record<ServiceName, string> = { kafka: '--brokers', redis: '--redis' };

/** The decision at the heart of `stack up`, pure so that every branch is tested. */
export function planService(
  service: ServiceName,
  address: string,
  probe: ProbeResult,
  record: ServiceRecord | undefined,
  recordAlive: boolean,
  local: boolean,
  portHolder?: string,
): Plan {
  const label = SERVICE_LABEL[service];
  if (probe.state === 'answers') {
    return record && recordAlive && record.address === address
      ? { action: 'use-ours', record }
      : { action: 'use-external' };
  }
  // Started by an earlier `stack up` that has not answered yet: a second one on its port would only fail.
  if (record && recordAlive && record.address === address) {
    return { action: 'wait-ours', record };
  }
  if (probe.state === 'foreign') {
    return {
      action: 'error',
      error: new StackError(
        'PORT_FOREIGN',
        `${address} is held by something that is not ${label}${portHolder ? ` (${portHolder})` : ''}: ${probe.detail}`,
        `Stop that program, or point ${FLAG[service]} at another address.`,
      ),
    };
  }
  if (!local) {
    return {
      action: 'error',
      error: new StackError(
        'NOT_LOCAL',
        `${label} at ${address} does not answer (${probe.detail})`,
        `stack up starts ${label} only on this machine (localhost); start the one at ${address}, or drop ${FLAG[service]} to use a local one.`,
      ),
    };
  }
  return { action: 'start' };
}

/** Names the process listening on a port, where `ss` can tell. */
export async function describePortHolder(port: number): Promise<string | undefined> {
  const { code, output } = await runProgram('ss', ['-Hltnp', `sport = :${port}`], processEnvironment()).catch(() => ({
    code: 1,
    output: '',
  }));
  if (code !== 0) return undefined;
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(output);
  return match ? `${match[1]}, pid ${match[2]}` : undefined;
}

function recordAlive(service: ServiceName, record: ServiceRecord | undefined): boolean {
  return record !== undefined && isOurProcess(record.pid, PROCESS_MARKER[service]);
}

async function plan(
  service: ServiceName,
  address: string,
  host: string,
  port: number,
  options: StackOptions,
  /** Wait here for one of ours that does not answer yet; false: say `wait-ours` (a cluster waits for its nodes together). */
  waitForOurs: boolean,
): Promise<Plan> {
  const probeOf = () => (service === 'kafka' ? probeKafka(host, port) : probeRedis(host, port));
  const probe = await probeOf();
  const record = findRecord(readState(options.paths.state), service, address);
  const holder = probe.state === 'foreign' ? await describePortHolder(port) : undefined;
  const decided = planService(service, address, probe, record, recordAlive(service, record), isLocalHost(host), holder);
  if (decided.action !== 'wait-ours' || !waitForOurs) return decided;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const mine = decided.record;
  const answered = await waitUntil(
    async () => !recordAlive(service, mine) || (await probeOf()).state === 'answers',
    timeoutMs,
    250,
  );
  if (!recordAlive(service, mine)) return { action: 'start' };
  if (answered) return { action: 'use-ours', record: mine };
  return {
    action: 'error',
    error: new StackError(
      'NOT_ANSWERING',
      `the ${SERVICE_LABEL[service]} at ${address} that stack up started (pid ${mine.pid}) runs but has not answered for ${(timeoutMs / 1000).toFixed(0)} s (log: ${mine.log})`,
      `Read its log; stop it with \`eventstream-tui stack down ${service}\` and run stack up again.`,
    ),
  };
}

export interface UpOutcome {
  service: ServiceName;
  address: string;
  action: 'external' | 'already-running' | 'started';
  pid?: number;
  log?: string;
  /** A Redis of a Sentinel set: what it was started as. */
  role?: RedisRole;
  /** A node of a local cluster: its id and the cluster's size. */
  node?: { id: number; of: number };
}

/** A service that answers already (ours or not) needs no start; undefined: start it. */
async function alreadyUp(
  service: ServiceName,
  address: string,
  host: string,
  port: number,
  options: StackOptions,
): Promise<UpOutcome | undefined> {
  const decision = await plan(service, address, host, port, options, true);
  if (decision.action === 'error') throw decision.error;
  if (decision.action === 'use-external') return { service, address, action: 'external' };
  if (decision.action === 'use-ours') {
    return { service, address, action: 'already-running', pid: decision.record.pid, log: decision.record.log };
  }
  return undefined;
}

/**
 * Records a service just started and waits until it answers. One that exits first, or does not answer
 * in time, is stopped and forgotten, and `notReady` (given its exit code if it exited on its own) says why.
 */
async function untilReady(
  service: ServiceName,
  child: Detached,
  record: ServiceRecord,
  options: StackOptions,
  step: ProgressStep,
  wait: { answers: () => Promise<boolean>; timeoutMs: number; everyMs: number },
  notReady: (exitCode: number | null | undefined) => Error,
): Promise<void> {
  updateState(options.paths.state, (s) => recordStarted(s, service, record));
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  const ready = await waitUntil(
    async () => exitCode !== undefined || (await wait.answers()),
    wait.timeoutMs,
    wait.everyMs,
  );
  if (exitCode === undefined && ready) return;
  const exited = exitCode; // before the stop below, which ends it too
  step.fail();
  await stopPid(child.pid, 5_000);
  updateState(options.paths.state, (s) => forgetStarted(s, service, record.address));
  throw notReady(exited);
}

async function kafkaUp(options: StackOptions): Promise<UpOutcome> {
  const env = options.env ?? processEnvironment();
  const progress = options.progress ?? silentProgress;
  const addresses = options.config.brokers;
  // Any configured broker that answers is a cluster to use.
  const probes = await Promise.all(
    addresses.map(async (a) => {
      const { host, port } = hostPort(a);
      return { address: a, probe: await probeKafka(host, port) };
    }),
  );
  const answering = probes.find((p) => p.probe.state === 'answers');
  const address = answering?.address ?? addresses[0] ?? 'localhost:9092';
  const { host, port } = hostPort(address);
  const up = await alreadyUp('kafka', address, host, port, options);
  if (up) return up;

  const ports: BrokerPorts = { host: host === '0.0.0.0' ? 'localhost' : host, port, controllerPort: port + 1 };
  const java = await locateJava(env);
  if (await portInUse(ports.host, ports.controllerPort)) {
    const holder = await describePortHolder(ports.controllerPort);
    throw new StackError(
      'CONTROLLER_PORT_BUSY',
      `port ${ports.controllerPort} (the local broker's KRaft controller port, broker port + 1) is already in use${holder ? ` by ${holder}` : ''}`,
      `Free port ${ports.controllerPort}, or run the broker on another port with --brokers localhost:<port>.`,
    );
  }
  if (!kafkaJarsCached(options.paths)) {
    const step = progress.step(`kafka: resolving Apache Kafka ${KAFKA_VERSION} from Maven Central (once)`);
    try {
      await ensureKafkaJars(options.paths, env, options.mavenArgs);
      step.done(`cached in ${options.paths.kafkaLibs}`);
    } catch (error) {
      step.fail();
      throw error;
    }
  }
  const fmtStep = progress.step('kafka: preparing KRaft storage');
  const formatted = await ensureFormatted(java.path, options.paths, ports, env).catch((error: unknown) => {
    fmtStep.fail();
    throw error;
  });
  fmtStep.done(formatted === 'formatted' ? 'formatted' : 'reusing existing data');

  const dirs = options.paths.kafka(port);
  const startStep = progress.step(`kafka: starting broker on ${address}`);
  const child = startKafka(java.path, options.paths, port);
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  await untilReady(
    'kafka',
    child,
    { pid: child.pid, address, log: dirs.log, startedAt: new Date().toISOString(), version: KAFKA_VERSION },
    options,
    startStep,
    { answers: async () => (await probeKafka(ports.host, port, 1000)).state === 'answers', timeoutMs, everyMs: 250 },
    (exitCode) =>
      kafkaNotReady(
        address,
        dirs.log,
        exitCode !== undefined
          ? `exited with code ${exitCode} while starting`
          : `did not become ready within ${(timeoutMs / 1000).toFixed(1)} s`,
      ),
  );
  await waitForMetadata(address, options);
  startStep.done(`ready, pid ${child.pid}`);
  return { service: 'kafka', address, action: 'started', pid: child.pid, log: dirs.log };
}

/** Ready means it answers a metadata request, not only that the port is open. */
async function waitForMetadata(address: string, options: StackOptions): Promise<void> {
  const admin = createKafka({
    brokers: [address],
    logger: createLogger({ kind: 'silent' }),
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 1000 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw kafkaNotReady(
      address,
      options.paths.kafka(hostPort(address).port).log,
      `answers but not to metadata requests: ${String(error)}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A string as redis.conf reads it: double-quoted, with backslash, quote and non-printable bytes escaped. */
export function redisConfString(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x5c || byte === 0x22) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `"${out}"`;
}

/**
 * The lines of redis.conf that set the URL's password: `requirepass` for the default user, or an ACL
 * user of that name with every permission (and the default user off). None without a password.
 */
export function redisAuthConfig(url: URL): string[] {
  if (!url.password) return [];
  const password = decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username);
  if (!user || user === 'default') return [`requirepass ${redisConfString(password)}`];
  return ['user default off', `user ${redisConfString(user)} on ${redisConfString(`>${password}`)} ~* &* +@all`];
}

/**
 * redis-server's arguments. Its password goes in `config` (mode 0600), never on its command line, where
 * `ps` would show it to every user of the machine.
 */
function redisServerArgs(
  port: number,
  host: string,
  dirs: { data: string; log: string; config: string },
  url: URL,
  extra: string[] = [],
): string[] {
  const auth = [...redisAuthConfig(url), ...extra];
  const args: string[] = [];
  if (auth.length > 0) {
    writeFileSync(dirs.config, `${auth.join('\n')}\n`, { mode: 0o600 });
    chmodSync(dirs.config, 0o600); // an older file keeps its mode through writeFileSync
    args.push(dirs.config);
  } else {
    rmSync(dirs.config, { force: true });
  }
  args.push('--port', String(port), '--bind', host, '--dir', dirs.data, '--logfile', dirs.log, '--daemonize', 'no');
  args.push('--save', '60 1', '--appendonly', 'no');
  return args;
}

async function redisUp(options: StackOptions): Promise<UpOutcome> {
  if (options.redisReplica)
    throw new StackError(
      'REPLICA_NEEDS_SENTINEL',
      `--redis-replica starts a primary, its replica and Sentinels: it needs a Sentinel URL, not ${redactUrl(options.config.redisUrl)}`,
      `Name the Sentinels and the set: --redis redis+sentinel://127.0.0.1:26390/eventstream --redis-replica 6390,6391`,
    );
  const url = new URL(options.config.redisUrl);
  const { host, port } = redisHostPort(options.config.redisUrl);
  const bindHost = host === 'localhost' ? '127.0.0.1' : host;
  return startRedisServer(options, host, port, {
    what: 'redis-server',
    args: (dirs) => redisServerArgs(port, bindHost, dirs, url),
  });
}

/**
 * One redis-server (a plain one, or a node of a Sentinel set: `node` names its role and set) on
 * host:port, unless one answers there already: started detached, recorded with its pid, waited for
 * until it answers.
 */
async function startRedisServer(
  options: StackOptions,
  host: string,
  port: number,
  server: {
    /** How progress and errors name it: "redis-server", "the primary of eventstream". */
    what: string;
    args: (dirs: ReturnType<StackOptions['paths']['redis']>) => string[];
    node?: { role: RedisRole; set: string };
  },
): Promise<UpOutcome> {
  const env = options.env ?? processEnvironment();
  const progress = options.progress ?? silentProgress;
  const address = `${host}:${port}`;
  const up = await alreadyUp('redis', address, host, port, options);
  if (up) return up;
  const redisServer = locateRedisServer(env);
  const dirs = options.paths.redis(port);
  mkdirSync(dirs.data, { recursive: true });
  const step = progress.step(`redis: starting ${server.what} on ${address}`);
  const child = startDetached(redisServer, server.args(dirs), dirs.log, dirs.dir);
  await untilReady(
    'redis',
    child,
    { pid: child.pid, address, log: dirs.log, startedAt: new Date().toISOString(), ...server.node },
    options,
    step,
    {
      answers: async () => (await probeRedis(host, port, 1000)).state === 'answers',
      timeoutMs: options.readyTimeoutMs ?? 20_000,
      everyMs: 100,
    },
    (exitCode) =>
      new StackError(
        'REDIS_NOT_READY',
        `${server.what} on ${address} ${exitCode !== undefined ? `exited with code ${exitCode}` : 'did not answer in time'}`,
        `Its log is ${dirs.log}.`,
        tailOfFile(dirs.log, 10),
      ),
  );
  step.done(`ready, pid ${child.pid}`);
  return {
    service: 'redis',
    address,
    action: 'started',
    pid: child.pid,
    log: dirs.log,
    ...(server.node ? { role: server.node.role } : {}),
  };
}

/** The Sentinel's timeouts of a local set: a primary down for 2 s is replaced, a failover may take 10 s. */
export const SENTINEL_DOWN_AFTER_MS = 2000;
export const SENTINEL_FAILOVER_TIMEOUT_MS = 10_000;

/** The lines of a Sentinel's configuration file (it rewrites the file as it learns). */
export function sentinelConfig(
  set: SentinelUrl,
  sentinel: { host: string; port: number },
  primary: { host: string; port: number },
  dir: string,
): string[] {
  const name = redisConfString(set.name);
  const quorum = Math.floor(set.sentinels.length / 2) + 1;
  const lines = [
    `port ${sentinel.port}`,
    `bind ${sentinel.host}`,
    `dir ${redisConfString(dir)}`,
    `sentinel monitor ${name} ${primary.host} ${primary.port} ${quorum}`,
    `sentinel down-after-milliseconds ${name} ${SENTINEL_DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${name} ${SENTINEL_FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${name} 1`,
  ];
  if (set.password !== undefined) {
    lines.push(`sentinel auth-pass ${name} ${redisConfString(set.password)}`);
    if (set.username && set.username !== 'default')
      lines.push(`sentinel auth-user ${name} ${redisConfString(set.username)}`);
  }
  return lines;
}

/** A URL with the set's user and password, for {@link redisAuthConfig} on a data node. */
function nodeUrl(set: SentinelUrl, host: string, port: number): URL {
  const url = new URL(`redis://${host}:${port}`);
  if (set.username) url.username = encodeURIComponent(set.username);
  if (set.password !== undefined) url.password = encodeURIComponent(set.password);
  return url;
}

function sentinelNodeUp(
  options: StackOptions,
  set: SentinelUrl,
  role: RedisRole,
  host: string,
  port: number,
  args: (dirs: ReturnType<StackOptions['paths']['redis']>) => string[],
): Promise<UpOutcome> {
  return startRedisServer(options, host, port, {
    what: `the ${role} of ${set.name}`,
    args,
    node: { role, set: set.name },
  });
}

/**
 * `stack up redis --redis-replica <p>,<r>` with `--redis redis+sentinel://…/<name>`: a primary on port
 * p, its replica on port r (`replicaof`), and a Sentinel on each address of the URL (one, or three for
 * a quorum of two), each recorded with its pid and role. A set whose Sentinels answer already is used.
 */
async function redisSentinelUp(options: StackOptions, set: SentinelUrl): Promise<UpOutcome[]> {
  const ports = options.redisReplica;
  const host = set.sentinels[0]!.host;
  const bindHost = host === 'localhost' ? '127.0.0.1' : host;
  const answering = await Promise.all(
    set.sentinels.map(async (s) => (await probeRedis(s.host, s.port, 1000)).state === 'answers'),
  );
  if (!ports) {
    if (answering.some(Boolean)) {
      // Ours or someone's: nothing to start.
      const outcomes: UpOutcome[] = [];
      for (const s of set.sentinels) {
        const up = await alreadyUp('redis', `${s.host}:${s.port}`, s.host, s.port, options).catch(() => undefined);
        if (up) outcomes.push({ ...up, role: 'sentinel' });
      }
      return outcomes;
    }
    throw new StackError(
      'SENTINEL_NEEDS_PORTS',
      `no Sentinel answers at ${set.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')}, and stack up needs the ports of the primary and its replica to start a set`,
      'Add --redis-replica <primary-port>,<replica-port>, for example --redis-replica 6390,6391.',
    );
  }
  if (set.sentinels.length !== 1 && set.sentinels.length !== 3)
    throw new StackError(
      'SENTINEL_COUNT',
      `stack up starts one Sentinel or three (a quorum of two), not ${set.sentinels.length}`,
      'Name one or three Sentinel addresses in the redis+sentinel:// URL.',
    );
  for (const s of set.sentinels)
    if (!isLocalHost(s.host) || s.host !== host)
      throw new StackError(
        'NOT_LOCAL',
        `stack up starts a Sentinel set only on this machine, on one host: ${s.host} is not ${host}`,
        'Give every Sentinel address as 127.0.0.1 (or localhost), or start the set yourself.',
      );
  const taken = new Set<number>();
  for (const port of [ports.primary, ports.replica, ...set.sentinels.map((s) => s.port)]) {
    if (taken.has(port))
      throw new StackError(
        'PORT_TWICE',
        `port ${port} is named twice (primary, replica and Sentinels need a port each)`,
        'Give --redis-replica two ports that no Sentinel of the URL uses.',
      );
    taken.add(port);
  }
  const dataArgs = (port: number, dirs: ReturnType<StackOptions['paths']['redis']>, extra: string[]): string[] => {
    return redisServerArgs(port, bindHost, dirs, nodeUrl(set, host, port), extra);
  };
  const outcomes: UpOutcome[] = [];
  outcomes.push(
    await sentinelNodeUp(options, set, 'primary', host, ports.primary, (dirs) => dataArgs(ports.primary, dirs, [])),
  );
  const auth: string[] = [];
  if (set.password !== undefined) {
    auth.push(`masterauth ${redisConfString(set.password)}`);
    if (set.username && set.username !== 'default') auth.push(`masteruser ${redisConfString(set.username)}`);
  }
  outcomes.push(
    await sentinelNodeUp(options, set, 'replica', host, ports.replica, (dirs) =>
      dataArgs(ports.replica, dirs, [...auth, `replicaof ${bindHost} ${ports.primary}`]),
    ),
  );
  for (const s of set.sentinels) {
    outcomes.push(
      await sentinelNodeUp(options, set, 'sentinel', host, s.port, (dirs) => {
        const file = path.join(dirs.dir, 'sentinel.conf');
        const lines = sentinelConfig(
          set,
          { host: bindHost, port: s.port },
          { host: bindHost, port: ports.primary },
          dirs.data,
        );
        writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
        chmodSync(file, 0o600);
        return [file, '--sentinel', '--logfile', dirs.log, '--daemonize', 'no'];
      }),
    );
  }
  await waitForSentinels(set, ports.replica, options);
  return outcomes;
}

/** Until the replica is in sync and every Sentinel knows it (a failover before that would have no one to promote). */
async function waitForSentinels(set: SentinelUrl, replicaPort: number, options: StackOptions): Promise<void> {
  const host = set.sentinels[0]!.host;
  const connect = (port: number, auth: boolean): Redis => {
    const client = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(auth && set.username ? { username: set.username } : {}),
      ...(auth && set.password !== undefined ? { password: set.password } : {}),
    });
    client.on('error', () => undefined);
    return client;
  };
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const synced = await waitUntil(
    async () => {
      const replica = connect(replicaPort, true);
      try {
        await replica.connect();
        return /master_link_status:up/.test(await replica.info('replication'));
      } catch {
        return false;
      } finally {
        replica.disconnect();
      }
    },
    timeoutMs,
    200,
  );
  const known = await waitUntil(
    async () => {
      for (const s of set.sentinels) {
        const sentinel = connect(s.port, false);
        try {
          await sentinel.connect();
          const replicas = (await sentinel.call('SENTINEL', 'replicas', set.name)) as string[][];
          if (!replicas.some((fields) => fields[fields.indexOf('flags') + 1] === 'slave')) return false;
        } catch {
          return false;
        } finally {
          sentinel.disconnect();
        }
      }
      return true;
    },
    timeoutMs,
    200,
  );
  if (!synced || !known)
    throw new StackError(
      'SENTINEL_NOT_READY',
      !synced
        ? `the replica on ${host}:${replicaPort} did not get in sync with its primary in time`
        : `the Sentinels did not learn of the replica in time`,
      `The logs are under ${options.paths.home} (redis-<port>/redis.log); \`stack down redis\` with the same --redis stops what was started.`,
    );
}

/** The addresses of the nodes of a local cluster whose first broker is `first`. */
export function clusterAddresses(first: string, nodes: number): string[] {
  const { host, port } = hostPort(first);
  return Array.from({ length: nodes }, (_, i) => `${host}:${clusterNodePorts(host, port, i).port}`);
}

async function ensureJarsStep(options: StackOptions, env: Environment, progress: Progress): Promise<void> {
  if (kafkaJarsCached(options.paths)) return;
  const step = progress.step(`kafka: resolving Apache Kafka ${KAFKA_VERSION} from Maven Central (once)`);
  try {
    await ensureKafkaJars(options.paths, env, options.mavenArgs);
    step.done(`cached in ${options.paths.kafkaLibs}`);
  } catch (error) {
    step.fail();
    throw error;
  }
}

/**
 * A local cluster of `nodes` KRaft nodes: those that answer already (started here earlier) are kept,
 * the others are formatted (once, with the cluster's id) and started side by side (a quorum needs a
 * majority before any node serves), and `up` returns once every node is a registered broker. A node
 * killed or stopped alone is started again by the same command, into the same cluster.
 */
async function kafkaClusterUp(options: StackOptions, nodes: number): Promise<UpOutcome[]> {
  const env = options.env ?? processEnvironment();
  const progress = options.progress ?? silentProgress;
  const first = options.config.brokers[0] ?? 'localhost:9092';
  const { host: firstHost, port: firstPort } = hostPort(first);
  const host = firstHost === '0.0.0.0' ? 'localhost' : firstHost;
  const addresses = clusterAddresses(first, nodes);
  const ports = addresses.map((_, i) => clusterNodePorts(host, firstPort, i));
  const decisions = await Promise.all(
    // A node may wait on peers this very command starts: the cluster waits for it with them.
    addresses.map((address, i) => plan('kafka', address, firstHost, ports[i]!.port, options, false)),
  );
  const failed = decisions.find((d) => d.action === 'error');
  if (failed?.action === 'error') throw failed.error;
  const external = addresses.filter((_, i) => decisions[i]!.action === 'use-external');
  if (external.length === nodes) return addresses.map((address) => ({ service: 'kafka', address, action: 'external' }));
  if (external.length > 0) {
    throw new StackError(
      'CLUSTER_MIXED',
      `a Kafka not started by eventstream-tui answers at ${external.join(', ')}, where node(s) of the local cluster of ${nodes} belong`,
      `Stop it, or start the cluster on other ports with --brokers localhost:<port> (its nodes take that port and the ${2 * nodes - 1} after it).`,
    );
  }
  // A broker of ours that runs alone (or in another cluster) cannot become a node of this one.
  decisions.forEach((d, i) => {
    const ours = d.action === 'use-ours' || d.action === 'wait-ours';
    const member = ours ? d.record.cluster : undefined;
    if (ours && (member?.first !== first || member.nodes !== nodes)) {
      throw new StackError(
        'KAFKA_LAYOUT',
        `${addresses[i]} runs a Kafka that stack up started ${member ? `as node ${member.nodeId} of a cluster of ${member.nodes} from ${member.first}` : 'alone'}, where node ${i + 1} of this cluster of ${nodes} belongs`,
        `Stop it (\`eventstream-tui stack down kafka --brokers ${addresses[i]}\`) and remove its folder, or start the cluster on other ports with --brokers localhost:<port>.`,
      );
    }
  });
  const outcomes: UpOutcome[] = addresses.map((address, i) => {
    const d = decisions[i]!;
    // A node of ours still starting is not started again (its port is taken): the cluster waits for it.
    return d.action === 'use-ours' || d.action === 'wait-ours'
      ? {
          service: 'kafka',
          address,
          action: 'already-running',
          pid: d.record.pid,
          log: d.record.log,
          node: { id: i + 1, of: nodes },
        }
      : { service: 'kafka', address, action: 'started', node: { id: i + 1, of: nodes } };
  });
  const toStart = outcomes.map((o, i) => ({ o, i })).filter(({ o }) => o.action === 'started');
  if (toStart.length === 0) {
    if (decisions.some((d) => d.action === 'wait-ours')) {
      const step = progress.step(`kafka: waiting for the nodes started earlier to answer`);
      await waitForCluster(addresses, nodes, options, options.readyTimeoutMs ?? 120_000).catch((error: unknown) => {
        step.fail();
        throw error;
      });
      step.done('ready');
    }
    return outcomes;
  }

  const java = await locateJava(env);
  for (const { i } of toStart) {
    const p = ports[i]!;
    if (await portInUse(p.host, p.controllerPort)) {
      const holder = await describePortHolder(p.controllerPort);
      throw new StackError(
        'CONTROLLER_PORT_BUSY',
        `port ${p.controllerPort} (node ${i + 1}'s KRaft controller port, its broker port + 1) is already in use${holder ? ` by ${holder}` : ''}`,
        `Free port ${p.controllerPort}, or run the cluster on other ports with --brokers localhost:<port>.`,
      );
    }
  }
  await ensureJarsStep(options, env, progress);

  const fmtStep = progress.step(`kafka: preparing KRaft storage of ${nodes} nodes`);
  // One id for the cluster: the one its formatted nodes hold, else a new one.
  let clusterId: Promise<string> | undefined;
  // Only from a folder formatted for this very layout (another's is refused by ensureFormatted).
  const known = ports
    .map((p, i) => {
      const dirs = options.paths.kafka(p.port);
      const layout = path.join(dirs.dir, 'cluster.layout');
      const mine = clusterLayout({ nodeId: i + 1, nodes: ports });
      return existsSync(layout) && readFileSync(layout, 'utf8') === mine ? formattedClusterId(dirs.data) : undefined;
    })
    .find((id) => id !== undefined);
  const sharedId = (): Promise<string> =>
    (clusterId ??= known ? Promise.resolve(known) : newClusterId(java.path, options.paths, env));
  const formatted = await Promise.all(
    toStart.map(({ i }) => {
      const node: ClusterNode = { nodeId: i + 1, nodes: ports };
      return ensureFormatted(java.path, options.paths, ports[i]!, env, { node, clusterId: sharedId });
    }),
  ).catch((error: unknown) => {
    fmtStep.fail();
    throw error;
  });
  const fresh = formatted.filter((f) => f === 'formatted').length;
  fmtStep.done(fresh === 0 ? 'reusing existing data' : `formatted ${fresh}, reusing ${formatted.length - fresh}`);

  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const startStep = progress.step(
    `kafka: starting ${toStart.length === nodes ? `${nodes} nodes` : `node(s) ${toStart.map(({ i }) => i + 1).join(', ')} of ${nodes}`} on ${toStart.map(({ o }) => o.address).join(', ')}`,
  );
  const children = toStart.map(({ o, i }) => ({
    o,
    i,
    child: startKafka(java.path, options.paths, ports[i]!.port, CLUSTER_NODE_HEAP),
  }));
  const ready = await Promise.allSettled(
    children.map(({ o, i, child }) => {
      const dirs = options.paths.kafka(ports[i]!.port);
      o.pid = child.pid;
      o.log = dirs.log;
      return untilReady(
        'kafka',
        child,
        {
          pid: child.pid,
          address: o.address,
          log: dirs.log,
          startedAt: new Date().toISOString(),
          version: KAFKA_VERSION,
          cluster: { first, nodeId: i + 1, nodes },
        },
        options,
        silentStep,
        {
          answers: async () => (await probeKafka(host, ports[i]!.port, 1000)).state === 'answers',
          timeoutMs,
          everyMs: 250,
        },
        (exitCode) =>
          kafkaNotReady(
            o.address,
            dirs.log,
            exitCode !== undefined
              ? `(node ${i + 1} of ${nodes}) exited with code ${exitCode} while starting`
              : `(node ${i + 1} of ${nodes}) did not become ready within ${(timeoutMs / 1000).toFixed(1)} s`,
          ),
      );
    }),
  );
  const notReady = ready.find((r) => r.status === 'rejected');
  if (notReady?.status === 'rejected') {
    startStep.fail();
    // The others started here cannot form the cluster alone: stop them too.
    await Promise.all(
      children.map(async ({ o, child }) => {
        await stopPid(child.pid, 10_000);
        updateState(options.paths.state, (st) => forgetStarted(st, 'kafka', o.address));
      }),
    );
    throw notReady.reason;
  }
  await waitForCluster(addresses, nodes, options, timeoutMs);
  startStep.done(`ready, pids ${children.map(({ child }) => child.pid).join(', ')}`);
  return outcomes;
}

const silentStep: ProgressStep = silentProgress.step('');

/** Ready means every node is a broker of the cluster's metadata, not only that its port answers. */
async function waitForCluster(
  addresses: string[],
  nodes: number,
  options: StackOptions,
  timeoutMs: number,
): Promise<void> {
  const admin = createKafka({
    brokers: addresses,
    logger: createLogger({ kind: 'silent' }),
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 1000 },
  }).admin();
  let seen = 0;
  try {
    await admin.connect();
    const all = await waitUntil(
      async () => {
        seen = (await admin.describeCluster().catch(() => ({ brokers: [] }))).brokers.length;
        return seen >= nodes;
      },
      timeoutMs,
      250,
    );
    if (!all) throw new Error(`${seen} of ${nodes} nodes registered`);
  } catch (error) {
    throw kafkaNotReady(
      addresses.join(', '),
      options.paths.kafka(hostPort(addresses[0]!).port).log,
      `did not form a cluster of ${nodes}: ${String(error)}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Brings up what is missing: Redis first (fast), then Kafka (one node, or a cluster of `kafkaNodes`). */
export async function stackUp(
  options: StackOptions,
  services: ServiceName[] = ['redis', 'kafka'],
): Promise<UpOutcome[]> {
  const outcomes: UpOutcome[] = [];
  const nodes = options.kafkaNodes ?? 1;
  for (const service of services) {
    if (service === 'kafka') {
      if (nodes > 1) outcomes.push(...(await kafkaClusterUp(options, nodes)));
      else outcomes.push(await kafkaUp(options));
      continue;
    }
    const set = parseSentinelUrl(options.config.redisUrl);
    if (set) outcomes.push(...(await redisSentinelUp(options, set)));
    else outcomes.push(await redisUp(options));
  }
  return outcomes;
}

export interface DownOutcome {
  service: ServiceName;
  /** The address it was started on (or, for `not-ours`, the configured one). */
  address: string;
  result: 'stopped' | 'killed' | 'not-running' | 'not-ours';
  pid?: number;
  /** For `not-ours`: the addresses `stack up` did start this service on (another configuration's). */
  elsewhere?: string[];
}

/** The configured address(es) of a service: every broker of --brokers, the host:port of --redis. */
export function configuredAddresses(config: Pick<Config, 'brokers' | 'redisUrl'>, service: ServiceName): string[] {
  if (service === 'kafka') return config.brokers.length > 0 ? [...config.brokers] : ['localhost:9092'];
  const set = parseSentinelUrl(config.redisUrl);
  if (set) return set.sentinels.map((s) => `${s.host}:${s.port}`);
  const { host, port } = redisHostPort(config.redisUrl);
  return [`${host}:${port}`];
}

/** The name of the Sentinel set the configuration names, if it names one. */
function configuredSet(config: Pick<Config, 'redisUrl'> | undefined): string | undefined {
  return config ? parseSentinelUrl(config.redisUrl)?.name : undefined;
}

/**
 * Stops what `stack up` recorded, by pid, and waits until each is gone: with `config`, only what it
 * started at the configured addresses (another address's server is left running); without, every
 * record of the service (for a caller that owns its stack home, as the tests do).
 */
export async function stackDown(
  options: Pick<StackOptions, 'paths' | 'progress'> & { config?: StackOptions['config'] },
  services: ServiceName[] = ['kafka', 'redis'],
): Promise<DownOutcome[]> {
  const progress = options.progress ?? silentProgress;
  const state = readState(options.paths.state);
  const outcomes: DownOutcome[] = [];
  for (const service of services) {
    const wanted = options.config ? configuredAddresses(options.config, service) : undefined;
    const setName = service === 'redis' ? configuredSet(options.config) : undefined;
    const all = state.started.filter((r) => r.service === service);
    // A Sentinel set: its Sentinels (the URL's addresses) and the data nodes recorded under its name;
    // a configured address of a cluster's first node names the whole cluster.
    const records = wanted
      ? all.filter(
          (r) =>
            wanted.includes(r.address) ||
            (setName !== undefined && r.set === setName) ||
            (r.cluster !== undefined && wanted.includes(r.cluster.first)),
        )
      : all;
    if (records.length === 0) {
      const elsewhere = all.map((r) => r.address);
      outcomes.push({
        service,
        address: wanted?.join(',') ?? '',
        result: 'not-ours',
        ...(elsewhere.length > 0 ? { elsewhere } : {}),
      });
      continue;
    }
    const stopOne = async (record: (typeof records)[number]): Promise<DownOutcome> => {
      let outcome: DownOutcome;
      if (!isOurProcess(record.pid, PROCESS_MARKER[service])) {
        outcome = { service, address: record.address, result: 'not-running', pid: record.pid };
      } else {
        const step = progress.step(`${service} ${record.address}: stopping pid ${record.pid}`);
        const result = await stopPid(record.pid, service === 'kafka' ? 30_000 : 10_000);
        step.done(result);
        outcome = { service, address: record.address, result, pid: record.pid };
      }
      updateState(options.paths.state, (s) => forgetStarted(s, service, record.address));
      return outcome;
    };
    const alone = records.filter((r) => r.cluster === undefined);
    const nodes = records.filter((r) => r.cluster !== undefined);
    for (const record of alone) outcomes.push(await stopOne(record));
    // A cluster's nodes stop together: one by one, the last ones would wait on a quorum already gone.
    outcomes.push(...(await Promise.all(nodes.map(stopOne))));
  }
  return outcomes;
}

export interface ServiceStatus {
  service: ServiceName;
  address: string;
  reachable: boolean;
  detail: string;
  version?: string;
  managed: boolean;
  pid?: number;
  log?: string;
  /**
   * A Redis of a Sentinel set: `primary`, `replica` (as it says now: a failover swaps them) or
   * `sentinel`; a node of a Kafka cluster: what it is (for a local cluster: its id, and broker+controller).
   */
  role?: string;
  /** Partitions this broker leads, of all partitions in the cluster (when the cluster answers). */
  leads?: { partitions: number; of: number };
}

async function kafkaVersionLine(address: string, record: ServiceRecord | undefined): Promise<string | undefined> {
  const admin = createKafka({
    brokers: [address],
    logger: createLogger({ kind: 'silent' }),
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 1, initialRetryTime: 200 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const what = record?.version ? `Apache Kafka ${record.version}` : 'Kafka (version not reported by the protocol)';
    // No "controller": a KRaft broker answers a client's DescribeCluster with a random live broker as
    // the controller (the quorum's active controller is not reachable by clients), which changed from
    // one `stack status` to the next.
    return `${what}, cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function redisVersionLine(redisUrl: string): Promise<string | undefined> {
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const mode = /redis_mode:(\S+)/.exec(info)?.[1];
    return `Redis ${version ?? '(unknown version)'}${mode ? `, ${mode}` : ''}`;
  } catch (error) {
    return `Redis (INFO refused: ${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

/** A client of one node of a Sentinel set (the set's password for its data nodes, none for Sentinels). */
function setClient(set: SentinelUrl, host: string, port: number, sentinel: boolean): Redis {
  const client = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    ...(!sentinel && set.username ? { username: set.username } : {}),
    ...(!sentinel && set.password !== undefined ? { password: set.password } : {}),
    ...(sentinel && set.sentinelPassword !== undefined ? { password: set.sentinelPassword } : {}),
  });
  client.on('error', () => undefined);
  return client;
}

/** The data nodes the Sentinels know of now (the primary first), from the first that answers. */
async function setMembers(set: SentinelUrl): Promise<string[]> {
  for (const s of set.sentinels) {
    const client = setClient(set, s.host, s.port, true);
    try {
      await client.connect();
      const [host, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', set.name)) as [string, string];
      const replicas = (await client.call('SENTINEL', 'replicas', set.name)) as string[][];
      const field = (fields: string[], name: string): string => fields[fields.indexOf(name) + 1] ?? '';
      return [`${host}:${port}`, ...replicas.map((r) => `${field(r, 'ip')}:${field(r, 'port')}`)];
    } catch {
      // the next Sentinel
    } finally {
      client.disconnect();
    }
  }
  return [];
}

/** `stack status` of a Sentinel set: each Sentinel, and each data node with the role it has now. */
async function sentinelSetStatus(options: StackOptions, set: SentinelUrl): Promise<ServiceStatus[]> {
  const state = readState(options.paths.state);
  const sentinels = set.sentinels.map((s) => `${s.host}:${s.port}`);
  const recorded = state.started.filter((r) => r.service === 'redis' && r.set === set.name && r.role !== 'sentinel');
  const nodes = [...new Set([...(await setMembers(set)), ...recorded.map((r) => r.address)])].filter(
    (a) => !sentinels.includes(a),
  );
  const describe = async (address: string, sentinel: boolean): Promise<ServiceStatus> => {
    const { host, port } = hostPort(address);
    const probe = await probeRedis(host, port);
    const record = findRecord(state, 'redis', address);
    const ours = record !== undefined && recordAlive('redis', record);
    const status: ServiceStatus = {
      service: 'redis',
      address,
      reachable: probe.state === 'answers',
      detail: probe.detail,
      managed: ours,
      role: sentinel ? 'sentinel' : 'unknown',
    };
    if (status.reachable) {
      const client = setClient(set, host, port, sentinel);
      try {
        await client.connect();
        const info = await client.info();
        const version = /redis_version:(\S+)/.exec(info)?.[1];
        status.version = `Redis ${version ?? '(unknown version)'}${sentinel ? ', sentinel' : ''}`;
        if (!sentinel) {
          const role = /role:(\S+)/.exec(info)?.[1];
          status.role = role === 'master' ? 'primary' : role === 'slave' ? 'replica' : (role ?? 'unknown');
        }
      } catch (error) {
        status.version = `Redis (INFO refused: ${(error as Error).message})`;
      } finally {
        client.disconnect();
      }
    } else if (!sentinel) {
      status.role = record?.role ? `${record.role} when started; not answering` : 'not answering';
    }
    if (ours && record) {
      status.pid = record.pid;
      status.log = record.log;
    }
    return status;
  };
  return Promise.all([...sentinels.map((a) => describe(a, true)), ...nodes.map((a) => describe(a, false))]);
}

/** The Kafka addresses `status` reports: every node of a local cluster, else every configured broker. */
function kafkaStatusAddresses(
  state: ReturnType<typeof readState>,
  brokers: string[],
): { address: string; role?: string }[] {
  const first = brokers[0] ?? 'localhost:9092';
  const nodes = clusterRecords(state, first)[0]?.cluster?.nodes;
  if (nodes !== undefined) {
    return clusterAddresses(first, nodes).map((address, i) => ({
      address,
      role: `broker+controller, node ${i + 1} of ${nodes}`,
    }));
  }
  return brokers.length > 1 ? brokers.map((address) => ({ address, role: 'broker' })) : [{ address: first }];
}

/** How many partitions each broker (by address) leads, of how many in all; undefined if no broker answers. */
async function leadership(addresses: string[]): Promise<{ by: Map<string, number>; of: number } | undefined> {
  const admin = createKafka({
    brokers: addresses,
    logger: createLogger({ kind: 'silent' }),
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 1, initialRetryTime: 200 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const address = new Map(cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]));
    const { topics } = await admin.fetchTopicMetadata();
    const by = new Map<string, number>();
    let of = 0;
    for (const t of topics) {
      for (const p of t.partitions) {
        of++;
        const at = address.get(p.leader);
        if (at) by.set(at, (by.get(at) ?? 0) + 1);
      }
    }
    return { by, of };
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function stackStatus(options: StackOptions): Promise<ServiceStatus[]> {
  const set = parseSentinelUrl(options.config.redisUrl);
  if (set) {
    // Kafka's rows (one per node of a local cluster) as without the set; the set's own rows after.
    const kafka = (
      await stackStatus({ ...options, config: { ...options.config, redisUrl: 'redis://127.0.0.1:1' } })
    ).filter((s) => s.service === 'kafka');
    return [...kafka, ...(await sentinelSetStatus(options, set))];
  }
  const state = readState(options.paths.state);
  const kafkaNodes = kafkaStatusAddresses(state, options.config.brokers);
  const { host: rHost, port: rPort } = redisHostPort(options.config.redisUrl);
  const redisAddress = `${rHost}:${rPort}`;
  const [kProbes, rProbe] = await Promise.all([
    Promise.all(
      kafkaNodes.map(({ address }) => {
        const { host, port } = hostPort(address);
        return probeKafka(host, port);
      }),
    ),
    probeRedis(rHost, rPort),
  ]);
  const describe = async (
    service: ServiceName,
    address: string,
    probe: ProbeResult,
    versionLine: (ours: ServiceRecord | undefined) => Promise<string | undefined>,
  ): Promise<ServiceStatus> => {
    const record = findRecord(state, service, address);
    const ours = record !== undefined && recordAlive(service, record);
    const status: ServiceStatus = {
      service,
      address,
      reachable: probe.state === 'answers',
      detail: probe.detail,
      managed: ours,
    };
    if (status.reachable) {
      const version = await versionLine(ours ? record : undefined);
      if (version) status.version = version;
    }
    if (ours && record) {
      status.pid = record.pid;
      status.log = record.log;
    }
    return status;
  };
  const several = kafkaNodes.length > 1;
  const reachable = kafkaNodes.filter((_, i) => kProbes[i]!.state === 'answers').map((n) => n.address);
  const [rows, leaders] = await Promise.all([
    Promise.all([
      ...kafkaNodes.map(({ address }, i) =>
        describe('kafka', address, kProbes[i]!, (record) => kafkaVersionLine(address, record)),
      ),
      describe('redis', redisAddress, rProbe, () => redisVersionLine(options.config.redisUrl)),
    ]),
    several && reachable.length > 0 ? leadership(reachable) : Promise.resolve(undefined),
  ]);
  kafkaNodes.forEach(({ role }, i) => {
    const row = rows[i]!;
    if (role) row.role = role;
    if (leaders && row.reachable) row.leads = { partitions: leaders.by.get(row.address) ?? 0, of: leaders.of };
  });
  return rows;
}
