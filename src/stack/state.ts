/** The record of the processes `stack up` started: the only ones `stack down` will stop. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ServiceName = 'kafka' | 'redis';

export interface ServiceRecord {
  pid: number;
  address: string;
  log: string;
  startedAt: string;
  version?: string;
}

export type StackState = Partial<Record<ServiceName, ServiceRecord>>;

export function readState(file: string): StackState {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as StackState) : {};
  } catch {
    return {};
  }
}

export function writeState(file: string, state: StackState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

export function updateState(file: string, change: (state: StackState) => void): StackState {
  const state = readState(file);
  change(state);
  writeState(file, state);
  return state;
}
