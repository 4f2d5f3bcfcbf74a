/** The dashboard's launch skips loading the subcommands (kafkajs, ioredis, the stack) unless one is named. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { pipelineSettings } from '../../src/app/runtime.js';
import { namesSubcommand } from '../../src/cli/argv.js';
import type { DashboardFlags } from '../../src/cli/dashboard-command.js';
import { buildProgram } from '../../src/cli/main.js';
import { resolveConfig } from '../../src/config/config.js';

describe('which arguments name a subcommand', () => {
  it.each([
    [[], false],
    [['--rate', '0'], false],
    [['--embedded', '--keep-stack'], false],
    [['--topic', 'consume-events'], false],
    [['--log-file=/tmp/x.log'], false],
    [['consume', '--drain'], true],
    [['--brokers', 'k:9092', 'dlq', 'list'], true],
    [['consum'], true],
    [['--help'], true],
    [['-h'], true],
  ])('%j: %s', (args, expected) => {
    expect(namesSubcommand(args)).toBe(expected);
  });
});

describe('the dashboard’s flags', () => {
  /** The flags the dashboard would start with (its action replaced: nothing is launched). */
  async function dashboardFlags(args: string[]): Promise<DashboardFlags> {
    const program: Command = await buildProgram(args);
    let flags: DashboardFlags | undefined;
    program.configureOutput({ writeErr: () => undefined });
    program.action((f: DashboardFlags) => {
      flags = f;
    });
    await program.parseAsync(args, { from: 'user' });
    return flags!;
  }

  it('--partitions: the topics it creates get that many (the README lists it for every mode)', async () => {
    const flags = await dashboardFlags(['--partitions', '6', '--rate', '0']);
    expect(pipelineSettings(resolveConfig(flags), flags).partitions).toBe(6);
    expect(pipelineSettings(resolveConfig({}), {}).partitions).toBe(3);
  });

  it('--partitions 0 is a usage error, as for consume', async () => {
    await expect(dashboardFlags(['--partitions', '0'])).rejects.toThrow(/--partitions must be a whole number above 0/);
  });
});
