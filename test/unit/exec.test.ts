import { describe, expect, it } from 'vitest';
import { missingV8Flags, subcommandOf, wantedV8Flags } from '../../src/cli/exec.js';

const YOUNG = '--max-semi-space-size=64';

describe('how node runs a command (src/cli/exec.ts)', () => {
  it('finds the subcommand: the first bare word that is no option value', () => {
    expect(subcommandOf(['consume', '--drain'])).toEqual({ name: 'consume', rest: ['--drain'] });
    expect(subcommandOf(['--brokers', 'h:1', 'users', '--json'])).toEqual({ name: 'users', rest: ['--json'] });
    expect(subcommandOf(['--brokers=h:1', 'consume'])?.name).toBe('consume');
    expect(subcommandOf(['--group', 'run'])).toBeUndefined();
    expect(subcommandOf([])).toBeUndefined();
    expect(subcommandOf(['--', 'consume'])).toBeUndefined();
  });

  it('the headless pipeline gets a larger young generation; nothing else (users neither: its first rows come sooner)', () => {
    expect(wantedV8Flags(['consume'])).toEqual([YOUNG]);
    expect(wantedV8Flags(['consume', '--group', 'users'])).toEqual([YOUNG]);
    expect(wantedV8Flags(['run', '--headless', '--rate', '5'])).toEqual([YOUNG]);
    expect(wantedV8Flags(['users', '--json'])).toEqual([]);
    // the dashboard (no subcommand, or `run` without --headless) owns the terminal: never re-run
    expect(wantedV8Flags([])).toEqual([]);
    expect(wantedV8Flags(['--rate', '5'])).toEqual([]);
    expect(wantedV8Flags(['--group', 'consume'])).toEqual([]);
    expect(wantedV8Flags(['run', '--rate', '5'])).toEqual([]);
    for (const other of ['produce', 'seed', 'prefs', 'stack', 'dlq', 'scheduled', 'help'])
      expect(wantedV8Flags([other, 'consume'])).toEqual([]);
    expect(wantedV8Flags(['consume', '--help'])).toEqual([]);
  });

  it('only what node was not started with: its own arguments and NODE_OPTIONS win', () => {
    expect(missingV8Flags(['consume'], [])).toEqual([YOUNG]);
    expect(missingV8Flags(['consume'], [YOUNG])).toEqual([]);
    expect(missingV8Flags(['consume'], ['--max-semi-space-size=32'])).toEqual([]);
    expect(missingV8Flags(['consume'], ['--max_semi_space_size=32'])).toEqual([]);
    expect(missingV8Flags(['consume'], ['--max-semi-space-size', '32'])).toEqual([]);
    expect(missingV8Flags(['consume'], ['--enable-source-maps'], '--max-semi-space-size=8 --trace-gc')).toEqual([]);
    expect(missingV8Flags(['users'], [], '--max-semi-space-size=8')).toEqual([]);
    expect(missingV8Flags(['run', '--headless'], [], '--max-old-space-size=256')).toEqual([YOUNG]);
  });
});
