/** `stack up --kafka-nodes 3`: the flag, the nodes' ports and settings, their records, the status rows. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterBrokersLine, formatStatus, parseKafkaNodes } from '../../src/cli/stack-command.js';
import { clusterLayout, clusterNodePorts, quorumVoters, serverProperties } from '../../src/stack/kafka-runtime.js';
import { clusterAddresses } from '../../src/stack/stack.js';
import { clusterRecords, readState, recordStarted, updateState } from '../../src/stack/state.js';

const props = (text: string): Map<string, string> =>
  new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('--kafka-nodes', () => {
  it('takes 1 or 3, and refuses anything else with what it takes', () => {
    expect(parseKafkaNodes('1')).toBe(1);
    expect(parseKafkaNodes('3')).toBe(3);
    for (const bad of ['2', '0', '-3', 'three', '3.0', '', '5']) {
      expect(() => parseKafkaNodes(bad)).toThrow(/--kafka-nodes must be 1 or 3/);
    }
  });
});

describe('a cluster of three', () => {
  const nodes = [0, 1, 2].map((i) => clusterNodePorts('localhost', 9092, i));

  it('puts node i on the port + 2i and its controller on + 2i + 1', () => {
    expect(nodes.map((n) => [n.port, n.controllerPort])).toEqual([
      [9092, 9093],
      [9094, 9095],
      [9096, 9097],
    ]);
    expect(clusterAddresses('localhost:9092', 3)).toEqual(['localhost:9092', 'localhost:9094', 'localhost:9096']);
    expect(quorumVoters(nodes)).toBe('1@localhost:9093,2@localhost:9095,3@localhost:9097');
  });

  it('gives each node its id, the static quorum and replication 3 with min.insync.replicas 2, internal topics too', () => {
    const p = props(serverProperties(nodes[1]!, '/data/2', { nodeId: 2, nodes }));
    expect(p.get('node.id')).toBe('2');
    expect(p.get('process.roles')).toBe('broker,controller');
    expect(p.get('listeners')).toBe('PLAINTEXT://localhost:9094,CONTROLLER://localhost:9095');
    expect(p.get('controller.quorum.voters')).toBe('1@localhost:9093,2@localhost:9095,3@localhost:9097');
    expect(p.has('controller.quorum.bootstrap.servers')).toBe(false);
    expect(p.get('default.replication.factor')).toBe('3');
    expect(p.get('min.insync.replicas')).toBe('2');
    expect(p.get('offsets.topic.replication.factor')).toBe('3');
    expect(p.get('transaction.state.log.replication.factor')).toBe('3');
    expect(p.get('transaction.state.log.min.isr')).toBe('2');
    expect(p.get('unclean.leader.election.enable')).toBe('false');
    expect(clusterLayout({ nodeId: 2, nodes })).toBe(
      'nodes=3 node.id=2 voters=1@localhost:9093,2@localhost:9095,3@localhost:9097\n',
    );
  });

  it('leaves one node as it was: standalone quorum, replication 1', () => {
    const p = props(serverProperties(nodes[0]!, '/data/1'));
    expect(p.get('node.id')).toBe('1');
    expect(p.get('controller.quorum.bootstrap.servers')).toBe('localhost:9093');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(p.has('default.replication.factor')).toBe(false);
    expect(p.has('min.insync.replicas')).toBe(false);
    expect(clusterLayout(undefined)).toBe('');
  });

  it('records each node with its cluster; the records are read back by the first node’s address', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'etui-cluster-state-')), 'stack.json');
    for (const [i, address] of clusterAddresses('localhost:9092', 3).entries()) {
      updateState(file, (s) =>
        recordStarted(s, 'kafka', {
          pid: 100 + i,
          address,
          log: `/l/${i}`,
          startedAt: 't',
          cluster: { first: 'localhost:9092', nodeId: i + 1, nodes: 3 },
        }),
      );
    }
    updateState(file, (s) =>
      recordStarted(s, 'kafka', { pid: 7, address: 'localhost:9192', log: '/l', startedAt: 't' }),
    );
    const records = clusterRecords(readState(file), 'localhost:9092');
    expect(records.map((r) => [r.address, r.pid, r.cluster?.nodeId])).toEqual([
      ['localhost:9092', 100, 1],
      ['localhost:9094', 101, 2],
      ['localhost:9096', 102, 3],
    ]);
    expect(clusterRecords(readState(file), 'localhost:9192')).toEqual([]);
  });

  it('prints the brokers line after up, and each node’s role in status', () => {
    const outcomes = clusterAddresses('localhost:9092', 3).map((address, i) => ({
      service: 'kafka' as const,
      address,
      action: 'started' as const,
      pid: 1 + i,
      node: { id: i + 1, of: 3 },
    }));
    expect(clusterBrokersLine(outcomes)).toBe(
      'Kafka cluster of 3 nodes: give the other commands --brokers localhost:9092,localhost:9094,localhost:9096 (or KAFKA_BROKERS=localhost:9092,localhost:9094,localhost:9096)',
    );
    expect(clusterBrokersLine([{ service: 'kafka', address: 'localhost:9092', action: 'started' }])).toBeUndefined();
    const text = formatStatus([
      {
        service: 'kafka',
        address: 'localhost:9094',
        reachable: true,
        detail: '',
        managed: true,
        pid: 5,
        role: 'broker+controller, node 2 of 3',
        leads: { partitions: 4, of: 12 },
      },
      {
        service: 'kafka',
        address: 'localhost:9096',
        reachable: false,
        detail: 'connection refused',
        managed: false,
        role: 'broker+controller, node 3 of 3',
      },
    ]);
    expect(text).toContain('  role       broker+controller, node 2 of 3, leads 4 of 12 partitions');
    expect(text).toContain('  reachable  no (connection refused)\n  role       broker+controller, node 3 of 3\n');
  });
});
