import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { cell, clock, compactNumber } from '../format.js';
import { Command } from '../keys/commands.js';
import { nodeLines, nodeName, replicaState } from '../replicas.js';
import type { PartitionRow, ReplicaRow } from '../store.js';
import { ScrollView, type ViewLine, type ViewProps } from './ScrollView.js';
import type { ViewDescriptor } from './view.js';

/** A column: its heading, width, alignment and each row's text. */
interface Column {
  heading: string;
  width: number;
  align?: 'right';
  text: (row: Row) => string;
}

interface Row {
  partition: number;
  offsets: PartitionRow | undefined;
  replicas: ReplicaRow | undefined;
}

/** The owner's column keeps at least this much when an optional column is added. */
const OWNER_MIN = 12;

const list = (ids: readonly number[] | undefined): string => (ids ? ids.join(',') || '-' : '?');

/**
 * `l`: one row per partition of the topic: committed and end offsets, lag, owner, events/s, and the
 * leader (id and host:port), replicas, in-sync replicas and a mark when under-replicated or offline.
 * Narrow terminals drop, in turn, the events/s, the committed offsets and the leader's address (the line
 * under the rows names every node's).
 */
export function PartitionsView({ store, theme, width, height }: ViewProps) {
  const { p, cluster, topic, scroll } = useStore(
    store,
    useShallow((s) => ({ p: s.partitions, cluster: s.cluster, topic: s.info.topic, scroll: s.scroll })),
  );
  const w = Math.max(0, width - 4);
  const offsets = new Map(p.state === 'ready' ? p.rows.map((r) => [r.partition, r]) : []);
  const layout = new Map(cluster.partitions.map((r) => [r.partition, r]));
  const ids = [...new Set([...offsets.keys(), ...layout.keys()])].sort((a, b) => a - b);
  const rows: Row[] = ids.map((partition) => ({
    partition,
    offsets: offsets.get(partition),
    replicas: layout.get(partition),
  }));

  const leaderId = (r: Row): string => (!r.replicas ? '?' : r.replicas.leader < 0 ? 'none' : String(r.replicas.leader));
  const widest = (texts: string[], min: number): number => Math.max(min, ...texts.map((t) => t.length));
  // Offsets get room to grow on a wide terminal; on a narrow one, what they take now.
  const num = widest(
    rows.flatMap((r) => [r.offsets?.committed ?? '', r.offsets?.end ?? '']),
    w >= 110 ? 9 : 3,
  );
  const states = rows.map((r) => (r.replicas ? replicaState(r.replicas) : 'in sync'));
  const stateW = states.includes('under-replicated') ? 16 : states.includes('offline') ? 7 : 0;
  const marks = (r: Row): string => {
    const state = r.replicas ? replicaState(r.replicas) : 'in sync';
    return state === 'offline' ? 'OFFLINE' : state === 'in sync' ? '' : state;
  };

  const partition: Column = { heading: 'partition', width: 9, text: (r) => String(r.partition) };
  const committed: Column = {
    heading: 'committed',
    width: Math.max(9, num),
    align: 'right',
    text: (r) => (r.offsets ? (r.offsets.committed ?? '-') : '?'),
  };
  const end: Column = { heading: 'end', width: num, align: 'right', text: (r) => r.offsets?.end ?? '?' };
  const lag: Column = {
    heading: 'lag',
    width: num,
    align: 'right',
    text: (r) => (r.offsets ? compactNumber(r.offsets.lag) : '?'),
  };
  const owner: Column = {
    heading: 'owner',
    width: OWNER_MIN,
    text: (r) => (r.offsets ? r.offsets.owner || '(no member)' : '?'),
  };
  const rate: Column = {
    heading: 'events/s',
    width: 9,
    align: 'right',
    text: (r) => (!r.offsets || r.offsets.rate === null ? '…' : compactNumber(r.offsets.rate)),
  };
  const leader: Column = {
    heading: 'leader',
    width: widest(rows.map(leaderId), 6),
    text: leaderId,
  };
  const addresses = rows.map((r) => (r.replicas && r.replicas.leader >= 0 ? nodeName(cluster, r.replicas.leader) : ''));
  const addressW = Math.min(28, widest(addresses, 0));
  // A list of node ids (the replicas, the in-sync ones): as wide as its widest row, at most 20.
  const nodeList = (heading: string, of: (r: ReplicaRow) => readonly number[]): Column => {
    const text = (r: Row): string => list(r.replicas ? of(r.replicas) : undefined);
    return { heading, width: Math.min(20, widest(rows.map(text), heading.length)), text };
  };
  const replicasCol = nodeList('replicas', (r) => r.replicas);
  const isr = nodeList('isr', (r) => r.isr);
  const mark: Column = { heading: 'state', width: stateW, text: marks };

  // What every width shows, then what fits beside it, most wanted first.
  const columns = [partition, end, lag, owner, leader, replicasCol, isr, ...(stateW > 0 ? [mark] : [])];
  const room = (): number => w - columns.reduce((n, c) => n + c.width + 1, -1);
  if (addressW > 0 && room() >= widest(rows.map(leaderId), 1) + 1 + addressW - leader.width) {
    leader.width = Math.max(leader.width, widest(rows.map(leaderId), 1) + 1 + addressW);
    leader.text = (r) => {
      const where = r.replicas && r.replicas.leader >= 0 ? nodeName(cluster, r.replicas.leader) : '';
      return `${cell(leaderId(r), widest(rows.map(leaderId), 1))}${where ? ` ${where}` : ''}`;
    };
  }
  // Too narrow even so (60 columns): the owner goes first.
  if (room() < 0) columns.splice(columns.indexOf(owner), 1);
  if (room() < 0) Object.assign(partition, { heading: 'part', width: 4 });
  if (room() >= committed.width + 1) columns.splice(1, 0, committed);
  if (room() >= rate.width + 1 && columns.includes(owner)) columns.splice(columns.indexOf(owner) + 1, 0, rate);
  owner.width += Math.max(0, room());

  const line = (text: (c: Column) => string): string =>
    columns.map((c) => cell(text(c), c.width, c.align ?? 'left')).join(' ');
  const header = { text: line((c) => c.heading) };
  const lines: ViewLine[] = [];
  if (rows.length === 0) {
    lines.push(p.state === 'error' ? { text: p.message, color: 'red' } : { text: p.message || 'reading…', dim: true });
  }
  for (const [i, r] of rows.entries()) {
    const state = states[i];
    lines.push({
      text: line((c) => c.text(r)),
      color:
        state === 'offline' ? 'red' : state === 'under-replicated' || (r.offsets?.lag ?? 0) > 0 ? 'yellow' : undefined,
    });
  }
  if (rows.length > 0 && p.state === 'error') lines.push({ text: `offsets: ${p.message}`, color: 'red' });
  if (p.state === 'ready') {
    const total = p.rows.reduce((n, r) => n + r.lag, 0);
    lines.push({
      text: `total lag ${compactNumber(total)} · group ${p.group} · read ${clock(p.at)}, every second`,
      dim: true,
    });
  }
  for (const n of nodeLines(cluster)) lines.push({ text: n.text, dim: !n.warn, color: n.warn ? 'yellow' : undefined });
  return (
    <ScrollView
      title={`Partitions of ${topic}`}
      header={header}
      lines={lines}
      scroll={scroll}
      theme={theme}
      width={width}
      height={height}
    />
  );
}

export const partitionsView: ViewDescriptor<'partitions'> = {
  id: 'partitions',
  title: 'partitions of the topic: offsets, lag, owner, events/s, leader, replicas, in-sync replicas',
  opens: Command.OpenPartitions,
  component: PartitionsView,
  scrollLimit: (s) => Math.max(s.partitions.rows.length, s.cluster.partitions.length) + 2 - (s.viewport.rows - 4),
};
