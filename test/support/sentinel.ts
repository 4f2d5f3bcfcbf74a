/**
 * A replicated Redis of the test's own: a primary, one replica (`--replicaof`) and one Sentinel
 * (`redis-server --sentinel`), each on a free port, each stopped by its pid. The Sentinel's timeouts are
 * short (down after 1 s) so that a killed primary is replaced within a few seconds.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { isAlive, startDetached, stopPid } from '../../src/stack/processes.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { canListen, waitFor } from './cli.js';

export const SENTINEL_SET = 'etui-test';

/** A port below the kernel's ephemeral range, free now, and not one already taken by this set. */
async function port(taken: number[]): Promise<number> {
  for (;;) {
    const p = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.includes(p) && (await canListen(p))) {
      taken.push(p);
      return p;
    }
  }
}

const tail = (file: string): string => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
};

export class SentinelSet {
  constructor(
    readonly dir: string,
    /** Ports: [primary, replica]; which is the primary now is {@link primaryPort}. */
    readonly dataPorts: number[],
    readonly sentinelPort: number,
    /** pid by port. */
    readonly pids: Map<number, number>,
  ) {}

  /** `--redis` for the pipeline: the primary the Sentinel names. */
  get url(): string {
    return `redis+sentinel://127.0.0.1:${this.sentinelPort}/${SENTINEL_SET}`;
  }

  /** The primary's port as the Sentinel says now. */
  async primaryPort(): Promise<number> {
    const s = new Redis(this.sentinelPort, '127.0.0.1', { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      const [, p] = (await s.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_SET)) as [string, string];
      return Number(p);
    } finally {
      s.disconnect();
    }
  }

  /** A client of the data node on `port`. */
  node(port: number): Redis {
    return new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  }

  /** SIGKILL of the data node on `port`: no shutdown, no save. */
  kill(port: number): void {
    const pid = this.pids.get(port)!;
    process.kill(pid, 'SIGKILL');
  }

  /** Until the Sentinel names another primary than `was`, and it answers as a primary. */
  async failedOver(was: number, timeoutMs = 30_000): Promise<number> {
    return waitFor(
      `the Sentinel to promote the replica (primary was ${was})`,
      async () => {
        const now = await this.primaryPort().catch(() => was);
        if (now === was) return undefined;
        const client = this.node(now);
        try {
          return /role:master/.test(await client.info('replication')) ? now : undefined;
        } catch {
          return undefined;
        } finally {
          client.disconnect();
        }
      },
      timeoutMs,
      200,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pids.values()].filter(isAlive).map((pid) => stopPid(pid, 5_000)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts primary, replica and Sentinel; resolves once the replica is in sync and the Sentinel knows it. */
export async function startSentinelSet(): Promise<SentinelSet> {
  const redisServer = findOnPath('redis-server');
  if (!redisServer) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-sentinel-'));
  const taken: number[] = [];
  const [primary, replica, sentinel] = [await port(taken), await port(taken), await port(taken)];
  const pids = new Map<number, number>();
  const set = new SentinelSet(dir, [primary, replica], sentinel, pids);
  try {
    const start = (p: number, args: string[]): string => {
      const d = path.join(dir, String(p));
      mkdirSync(d, { recursive: true });
      const log = path.join(d, 'redis.log');
      const child = startDetached(redisServer, args, log, d);
      pids.set(p, child.pid);
      return log;
    };
    const data = (p: number): string[] => [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      path.join(dir, String(p)),
    ];
    const logs = [
      start(primary, data(primary)),
      start(replica, [...data(replica), '--replicaof', '127.0.0.1', String(primary)]),
    ];
    const conf = path.join(dir, `sentinel-${sentinel}.conf`);
    writeFileSync(
      conf,
      [
        `port ${sentinel}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_SET} 127.0.0.1 ${primary} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_SET} 1000`,
        `sentinel failover-timeout ${SENTINEL_SET} 5000`,
        `sentinel parallel-syncs ${SENTINEL_SET} 1`,
        '',
      ].join('\n'),
    );
    logs.push(start(sentinel, [conf, '--sentinel']));
    for (const p of [primary, replica, sentinel])
      await waitFor(
        `redis on 127.0.0.1:${p}`,
        async () => (await probeRedis('127.0.0.1', p, 1000)).state === 'answers',
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${logs.map(tail).join('\n---\n')}`);
      });
    const r = set.node(replica);
    await waitFor(
      'the replica in sync',
      async () => /master_link_status:up/.test(await r.info('replication')),
      30_000,
    ).finally(() => r.disconnect());
    const s = new Redis(sentinel, '127.0.0.1', { maxRetriesPerRequest: 1 });
    await waitFor(
      'the Sentinel to know the replica',
      async () => {
        const replicas = (await s.call('SENTINEL', 'replicas', SENTINEL_SET)) as string[][];
        return replicas.some((fields) => {
          const flags = fields[fields.indexOf('flags') + 1] ?? '';
          return flags === 'slave';
        });
      },
      30_000,
    ).finally(() => s.disconnect());
    return set;
  } catch (error) {
    await set.stop();
    throw error;
  }
}
