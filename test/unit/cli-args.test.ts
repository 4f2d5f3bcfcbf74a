/** The dashboard's launch skips loading the subcommands (kafkajs, ioredis, the stack) unless one is named. */
import { describe, expect, it } from 'vitest';
import { namesSubcommand } from '../../src/cli/argv.js';

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
