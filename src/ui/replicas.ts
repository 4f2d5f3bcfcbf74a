/** The Kafka nodes and the topic's replicas in words: the status bar's summary and the partitions view's marks. */
import { clock } from './format.js';
import type { ClusterView, ReplicaRow } from './store.js';

export type ReplicaState = 'in sync' | 'under-replicated' | 'offline';

/** Offline: no leader; under-replicated: fewer in-sync replicas than replicas. */
export function replicaState(r: ReplicaRow): ReplicaState {
  if (r.leader < 0) return 'offline';
  return r.isr.length < r.replicas.length ? 'under-replicated' : 'in sync';
}

export interface ClusterCounts {
  up: number;
  nodes: number;
  under: number;
  offline: number;
}

export function clusterCounts(c: ClusterView): ClusterCounts {
  let under = 0;
  let offline = 0;
  for (const p of c.partitions) {
    const state = replicaState(p);
    if (state === 'offline') offline++;
    else if (state === 'under-replicated') under++;
  }
  return { up: c.nodes.filter((n) => n.up).length, nodes: c.nodes.length, under, offline };
}

/**
 * The status bar's summary: `Kafka 1 node` for one node with nothing wrong, else `Kafka 3/3 nodes · 0
 * under-replicated` (`· 1 offline` when a partition has no leader); `warn` when a node is down or a
 * partition under-replicated, `bad` when one is offline. A read that failed keeps the last counts and
 * says so. Null before the first read.
 */
export function clusterSummary(c: ClusterView): { text: string; tone: 'plain' | 'warn' | 'bad' } | null {
  if (c.readAt === 0 && c.state !== 'error') return null;
  const n = clusterCounts(c);
  if (c.state === 'error') {
    const known = n.nodes > 0 ? `?/${n.nodes} nodes` : 'nodes ?';
    return { text: `Kafka ${known} (${c.message})`, tone: 'warn' };
  }
  const offline = n.offline > 0 ? ` · ${n.offline} offline` : '';
  const tone = n.offline > 0 ? 'bad' : n.up < n.nodes || n.under > 0 ? 'warn' : 'plain';
  if (n.nodes === 1 && tone === 'plain') return { text: 'Kafka 1 node', tone };
  const nodes = `${n.up}/${n.nodes} node${n.nodes === 1 ? '' : 's'}`;
  return { text: `Kafka ${nodes} · ${n.under} under-replicated${offline}`, tone };
}

/** `host:port` of a node as shown: its id alone when never seen. */
export const nodeName = (c: ClusterView, id: number): string => c.nodes.find((n) => n.id === id)?.address ?? '';

/**
 * The partitions view's lines under the rows: one per node (`node 2  kafka-2:9092  down`), then the
 * counts and when they were read (`1 under-replicated · 0 offline · read 12:00:01, every second`).
 */
export function nodeLines(c: ClusterView): { text: string; warn: boolean }[] {
  if (c.readAt === 0) {
    return [
      { text: `leaders and replicas: ${c.state === 'error' ? c.message : 'reading…'}`, warn: c.state === 'error' },
    ];
  }
  const leads = new Map<number, number>();
  for (const p of c.partitions) if (p.leader >= 0) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
  const idW = Math.max(...c.nodes.map((n) => String(n.id).length));
  const addressW = Math.min(40, Math.max(0, ...c.nodes.map((n) => n.address.length)));
  const lines = c.nodes.map((n) => {
    const what = [n.up ? 'up' : 'down', ...(n.up ? [`leads ${leads.get(n.id) ?? 0}`] : [])].join(', ');
    return {
      text: `node ${String(n.id).padEnd(idW)} ${(n.address || '(address unknown)').padEnd(addressW)}  ${what}`,
      warn: !n.up,
    };
  });
  const counts = clusterCounts(c);
  const read =
    c.state === 'error' ? `as read ${clock(c.readAt)}; now ${c.message}` : `read ${clock(c.readAt)}, every second`;
  lines.push({
    text: `${counts.up}/${counts.nodes} nodes up · ${counts.under} under-replicated · ${counts.offline} offline · ${read}`,
    warn: c.state === 'error',
  });
  return lines;
}
