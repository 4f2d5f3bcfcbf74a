/**
 * A live dashboard renders text it never rendered before, every frame (clocks, offsets, counters).
 * Nothing on the rendering path may keep every such text: Ink 6.8 did (its text-measuring caches, ink
 * issue #986); patches/ink+6.8.0.patch bounds them. What a user would lose here is memory.
 */
import { Box, render, Text } from 'ink';
import { Writable } from 'node:stream';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function liveHeapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function Row({ n }: { n: number }) {
  return (
    <Box flexDirection="column" width={60}>
      <Text>{`12:00:${String(n % 60).padStart(2, '0')} item_purchased user-${n % 24} 1@${n} amount=${n}.50 USD`}</Text>
      <Text wrap="truncate">{`a line too long for its box, so Ink truncates it: offset ${n} `.repeat(3)}</Text>
    </Box>
  );
}

/** A terminal that keeps only the last frame (ink-testing-library keeps every frame, which would be measured). */
class LastFrame extends Writable {
  columns = 100;
  rows = 30;
  last = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.last = chunk.toString();
    done();
  }
}

describe('rendering distinct text keeps memory bounded', () => {
  it('12,000 frames of new text leave the live heap where it was', async () => {
    const stdout = new LastFrame();
    const r = render(<Row n={0} />, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      debug: true,
      patchConsole: false,
      exitOnCtrlC: false,
    });
    // React's scheduler runs its queued work when the event loop turns, as it does between real frames.
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    for (let n = 1; n <= 2_500; n++) {
      r.rerender(<Row n={n} />); // warm up: caches fill to their bound
      if (n % 50 === 0) await turn();
    }
    await turn();
    const before = liveHeapMb();
    for (let n = 2_501; n <= 14_500; n++) {
      r.rerender(<Row n={n} />);
      if (n % 50 === 0) await turn();
    }
    await turn();
    const after = liveHeapMb();
    expect(stdout.last).toContain('1@14500');
    r.unmount();
    // Unbounded, the caches keep three strings per frame here (≈ 36,000 strings, ≈ 11 MB; the bounded caches
    // hold a few MB at most, more or less full at any moment).
    expect(after - before).toBeLessThan(2);
  }, 60_000);
});
