/** stack.json: one record per service and address; the layout before it (one per service) is still read. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRecord, readState, recordStarted, updateState } from '../../src/stack/state.js';

const record = (address: string, pid: number) => ({ pid, address, log: `/logs/${address}.log`, startedAt: 't' });

describe('the record of what stack up started', () => {
  it('keeps a record per address: a second Redis does not replace the first', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'etui-state-')), 'stack.json');
    updateState(file, (s) => recordStarted(s, 'redis', record('127.0.0.1:7001', 11)));
    updateState(file, (s) => recordStarted(s, 'redis', record('127.0.0.1:7002', 12)));
    updateState(file, (s) => recordStarted(s, 'redis', record('127.0.0.1:7001', 13))); // restarted there
    const state = readState(file);
    expect(state.started.map((r) => [r.address, r.pid])).toEqual([
      ['127.0.0.1:7002', 12],
      ['127.0.0.1:7001', 13],
    ]);
    expect(findRecord(state, 'redis', '127.0.0.1:7002')?.pid).toBe(12);
    expect(findRecord(state, 'kafka', '127.0.0.1:7002')).toBeUndefined();
  });

  it('reads the earlier layout (one record per service) and writes the new one; what it cannot read is ignored', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'etui-state-')), 'stack.json');
    writeFileSync(file, JSON.stringify({ kafka: record('localhost:9092', 21), redis: record('127.0.0.1:6379', 22) }));
    const state = readState(file);
    expect(findRecord(state, 'kafka', 'localhost:9092')?.pid).toBe(21);
    expect(findRecord(state, 'redis', '127.0.0.1:6379')?.pid).toBe(22);
    updateState(file, () => undefined);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      started: [
        { service: 'kafka', ...record('localhost:9092', 21) },
        { service: 'redis', ...record('127.0.0.1:6379', 22) },
      ],
    });
    writeFileSync(
      file,
      JSON.stringify({ started: [{ service: 'mongo', ...record('x:1', 1) }, { service: 'redis' }, 7] }),
    );
    expect(readState(file).started).toEqual([]);
    writeFileSync(file, 'not json');
    expect(readState(file).started).toEqual([]);
  });
});
