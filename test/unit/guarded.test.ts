import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { ServiceUnavailableError } from '../../src/app/services.js';
import { knownFailure, reportFailure, setUsageCommand, UsageError } from '../../src/cli/guarded.js';
import { ConfigError } from '../../src/config/config.js';
import { StackError } from '../../src/stack/errors.js';

describe('one mapping from a failure to its message and exit code, for every command', () => {
  it('usage errors exit 2, a missing service or a failed stack step 1, each one message', () => {
    expect(knownFailure(new ConfigError('bad --brokers'))).toEqual({ text: 'error: bad --brokers', code: 2 });
    expect(knownFailure(new UsageError('unknown service "x"'))).toEqual({
      text: 'error: unknown service "x"',
      code: 2,
    });
    expect(knownFailure(new ServiceUnavailableError('redis', 'Redis at r:1 does not answer'))).toEqual({
      text: 'error: Redis at r:1 does not answer',
      code: 1,
    });
    expect(knownFailure(new StackError('JAVA_MISSING', 'no java', 'install it'))).toEqual({
      text: 'error: no java\n  install it',
      code: 1,
    });
  });

  it('anything else is not known (main lets a bug show its stack trace)', () => {
    expect(knownFailure(new Error('boom'))).toBeUndefined();
  });

  it('a usage error is followed by the help of the command it was given to; any other failure is not', () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      setUsageCommand(new Command('eventstream-tui').command('probe').argument('<user>').exitOverride());
      reportFailure({ text: 'error: bad value', code: 2 });
      expect(written.join('')).toMatch(/^error: bad value\n\nUsage: eventstream-tui probe \[options\] <user>\n/);
      written.length = 0;
      reportFailure({ text: 'error: Redis at r:1 does not answer', code: 1 });
      expect(written.join('')).toBe('error: Redis at r:1 does not answer\n');
    } finally {
      spy.mockRestore();
    }
  });
});
