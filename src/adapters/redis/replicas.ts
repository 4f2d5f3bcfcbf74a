/**
 * `WAIT <replicas> <timeout>` on the connections that write (`--redis-wait-replicas`): on a plain or
 * Sentinel-found primary, its one connection (every command of the pipeline goes through it, so one
 * WAIT covers all the chunk's writes); on a Redis Cluster, every primary's connection, at once.
 */
import type { Redis } from 'ioredis';
import type { ReplicaWait } from '../../pipeline/ports.js';
import { isCluster, type RedisClient } from './client.js';

const MOVES = ['ready', 'close', '+node', '-node', '+switch-master'] as const;

export class RedisReplicaWait implements ReplicaWait {
  private connections = 0;
  // Every (re)connection: a write before it went to a server a WAIT after it does not ask.
  private readonly moved = (): void => {
    this.connections++;
  };

  constructor(
    private readonly client: RedisClient,
    readonly replicas: number,
    readonly timeoutMs: number,
  ) {
    for (const event of MOVES) client.on(event, this.moved);
  }

  /** Stops listening to the client (a consumer stopped; the client lives on). */
  close(): void {
    for (const event of MOVES) this.client.off(event, this.moved);
  }

  epoch(): number {
    return this.connections;
  }

  async wait(): Promise<number> {
    const { client, replicas, timeoutMs } = this;
    if (!isCluster(client)) return client.wait(replicas, timeoutMs);
    const primaries: Redis[] = client.nodes('master');
    if (primaries.length === 0) throw new Error('no Redis Cluster primary to WAIT on');
    const acked = await Promise.all(primaries.map((node) => node.wait(replicas, timeoutMs)));
    return Math.min(...acked);
  }
}
