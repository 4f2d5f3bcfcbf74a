/**
 * The record of the processes `stack up` started: the only ones `stack down` will stop. One record per
 * service and address (`stack up redis` for a second address adds a record; it never replaces the first).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ServiceName = 'kafka' | 'redis';

const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'redis'];

/** What a Redis process of a replicated set (`--redis-replica`) was started as; the roles may swap since. */
export type RedisRole = 'primary' | 'replica' | 'sentinel';

export interface ServiceRecord {
  pid: number;
  address: string;
  log: string;
  startedAt: string;
  version?: string;
  /** A Redis of a Sentinel set: what it was started as. */
  role?: RedisRole;
  /** A Redis of a Sentinel set: the set's name (the `/<name>` of `redis+sentinel://…/<name>`). */
  set?: string;
  /**
   * A node of a local Kafka cluster: the address of its first node (what `--brokers` names by
   * default), this node's id (1-based) and the cluster's size. Absent for a broker alone.
   */
  cluster?: ClusterMembership;
}

export interface ClusterMembership {
  first: string;
  nodeId: number;
  nodes: number;
}

function isMembership(value: unknown): value is ClusterMembership {
  const m = value as Partial<ClusterMembership> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.first === 'string' &&
    Number.isSafeInteger(m.nodeId) &&
    Number.isSafeInteger(m.nodes)
  );
}

export interface StartedService extends ServiceRecord {
  service: ServiceName;
}

/** `stack.json`: `{ "started": [{ "service": "redis", "address": "127.0.0.1:6379", "pid": …, … }] }`. */
export interface StackState {
  started: StartedService[];
}

function isRecord(value: unknown): value is ServiceRecord {
  const r = value as Partial<ServiceRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isSafeInteger(r.pid) &&
    typeof r.address === 'string' &&
    typeof r.log === 'string'
  );
}

/**
 * The records, from this layout or the one before it (one record per service at the top level,
 * `{ "redis": { "pid": … } }`): a stack started by an earlier version is still stopped by `stack down`.
 */
export function readState(file: string): StackState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { started: [] };
  }
  if (!parsed || typeof parsed !== 'object') return { started: [] };
  const o = parsed as { started?: unknown } & Partial<Record<ServiceName, unknown>>;
  const state: StackState = { started: [] };
  if (Array.isArray(o.started)) {
    for (const entry of o.started as unknown[]) {
      const service = (entry as { service?: unknown } | null)?.service;
      if (isRecord(entry) && SERVICE_NAMES.includes(service as ServiceName)) {
        recordStarted(state, service as ServiceName, entry);
      }
    }
  }
  for (const service of SERVICE_NAMES) {
    const legacy = o[service];
    if (isRecord(legacy) && !findRecord(state, service, legacy.address)) recordStarted(state, service, legacy);
  }
  return state;
}

export function writeState(file: string, state: StackState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ started: state.started }, null, 2)}\n`);
  renameSync(tmp, file);
}

export function updateState(file: string, change: (state: StackState) => void): StackState {
  const state = readState(file);
  change(state);
  writeState(file, state);
  return state;
}

/** What `stack up` started for `service` at `address`, if anything. */
export function findRecord(state: StackState, service: ServiceName, address: string): ServiceRecord | undefined {
  return state.started.find((r) => r.service === service && r.address === address);
}

/** Records a start, replacing only an older record of the same service at the same address. */
export function recordStarted(state: StackState, service: ServiceName, record: ServiceRecord): void {
  forgetStarted(state, service, record.address);
  const { pid, address, log, startedAt, version, role, set, cluster } = record;
  state.started.push({
    service,
    pid,
    address,
    log,
    startedAt,
    ...(version !== undefined ? { version } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(set !== undefined ? { set } : {}),
    ...(isMembership(cluster)
      ? { cluster: { first: cluster.first, nodeId: cluster.nodeId, nodes: cluster.nodes } }
      : {}),
  });
}

/** The records of the nodes of the local cluster whose first node is at `first`, by node id. */
export function clusterRecords(state: StackState, first: string): StartedService[] {
  return state.started
    .filter((r) => r.service === 'kafka' && r.cluster?.first === first)
    .sort((a, b) => a.cluster!.nodeId - b.cluster!.nodeId);
}

export function forgetStarted(state: StackState, service: ServiceName, address: string): void {
  state.started = state.started.filter((r) => !(r.service === service && r.address === address));
}
