/** Every output mode says when something is wrong: errors on stderr, rate-limited; stats count them. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachHeadlessOutput, type OutputMode } from '../../src/cli/headless-output.js';
import type { ChannelDefinition } from '../../src/domain/channels/channel.js';
import { loadCatalog } from '../../src/domain/catalog.js';
import { Telemetry } from '../../src/telemetry/telemetry.js';

function capture(mode: OutputMode, channels: readonly ChannelDefinition[] = [], statusLines = true) {
  const telemetry = new Telemetry();
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const printer = attachHeadlessOutput(telemetry, mode, channels, out, err, statusLines);
  return { telemetry, printer, stdout: () => stdout, stderr: () => stderr };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('errors in headless output', () => {
  it.each(['lines', 'stats', 'none'] as const)(
    '--output %s: each error is one line on stderr, control characters escaped',
    async (mode) => {
      const c = capture(mode);
      c.telemetry.publish({
        kind: 'error',
        source: 'redis',
        message: 'looking up users failed: \u001b[31mWRONGTYPE\u001b[0m',
        at: Date.now(),
      });
      await tick();
      expect(c.stderr()).toBe('error: redis: looking up users failed: \\u001b[31mWRONGTYPE\\u001b[0m\n');
      c.printer.stop();
    },
  );

  it('the consumer status lines (info) are hidden at LOG_LEVEL=warn and above; errors never are', async () => {
    for (const statusLines of [true, false]) {
      const c = capture('none', [], statusLines);
      c.telemetry.publish({ kind: 'assignment', partitions: [0, 1], at: 1 });
      c.telemetry.publish({ kind: 'connection', service: 'kafka', state: 'connected', detail: 'x', at: 1 });
      c.telemetry.publish({ kind: 'error', source: 'kafka', message: 'broken', at: 1 });
      await tick();
      c.printer.stop();
      const lines = c.stderr().trim().split('\n');
      expect(lines.some((l) => l.includes('"kind":"assignment"'))).toBe(statusLines);
      expect(lines.some((l) => l.includes('"kind":"connection"'))).toBe(statusLines);
      expect(lines).toContain('error: kafka: broken');
    }
  });

  it('a flood is rate-limited to 5 lines a second, and what was not shown is counted', async () => {
    const c = capture('none');
    for (let i = 0; i < 50; i++)
      c.telemetry.publish({ kind: 'error', source: 'kafka', message: `failure ${i}`, at: Date.now() });
    await tick();
    c.printer.stop();
    const lines = c.stderr().trim().split('\n');
    expect(lines.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `error: kafka: failure ${i}`));
    expect(lines.slice(5)).toEqual([
      'error: 45 more error(s) in that second not shown (the stats line counts them all)',
    ]);
    expect(c.stdout()).toBe('');
  });

  it('the stats line counts errors and the producer backlog', async () => {
    const c = capture('stats');
    c.telemetry.publish({ kind: 'error', source: 'producer', message: 'x', at: Date.now() });
    c.telemetry.publish({ kind: 'backlog', unacknowledged: 42, full: false, at: Date.now() });
    c.printer.stop();
    const stats = JSON.parse(c.stdout().trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(stats).toMatchObject({ kind: 'stats', errors: 1, backlog: 42 });
  });

  it.each(['lines', 'stats', 'none'] as const)(
    '--output %s: a message sent on an echoed channel (console) is one human line on stderr',
    async (mode) => {
      const { channels } = await loadCatalog();
      expect(channels.filter((ch) => ch.echoed).map((ch) => ch.name)).toEqual(['console']);
      const c = capture(mode, channels);
      for (const channel of channels.map((ch) => ch.name)) {
        c.telemetry.publish({
          kind: 'delivery',
          eventId: 'e1',
          type: 'order.placed',
          userId: 'user-01',
          channel,
          status: 'sent',
          reason: null,
          latencyMs: 1,
          attempts: 1,
          address: 'Ada',
          text: `via ${channel}`,
          at: Date.now(),
        });
      }
      await tick();
      c.printer.stop();
      expect(c.stderr()).toBe('[console] Ada: via console\n');
    },
  );
});
