/**
 * The inspect keys in a real terminal (tmux, 80×24) against the real Kafka and Redis: Tab and Enter
 * (the event and its trace), / (filter), x (export file), d (dead letters, also those from before this
 * launch, replayed with R after y), l (partitions with the group's owner).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { Dashboards } from '../support/dashboard.js';
import { createTopic, event, produceRaw, readTopic, redisUrl, unique } from '../support/pipeline.js';

const dashboards = new Dashboards();

beforeAll(async () => {
  const seeded = await runCli(['seed', '--redis', redisUrl()]);
  expect(seeded.code).toBe(0);
});

afterAll(() => dashboards.kill());

describe('inspecting from the dashboard at 80×24', () => {
  it('Tab+Enter shows an event with its trace; / filters; x exports; d lists and R replays a dead letter; l shows partitions', async () => {
    const topic = unique('inspect');
    const group = unique('inspect-group');
    await createTopic(topic);
    // A letter written by an earlier run: a failed email for user-01.
    const earlier = event('user_signup', 'user-01', { plan: 'pro' });
    await produceRaw(`${topic}.dlq`, [
      {
        key: 'user-01',
        value: JSON.stringify(earlier),
        headers: {
          'event-type': 'user_signup',
          'dlq-reason': 'delivery-failed',
          'dlq-detail': 'provider down (an earlier run)',
          'dlq-source-topic': topic,
          'dlq-source-partition': '0',
          'dlq-source-offset': '7',
          'dlq-channel': 'email',
          'dlq-failed-at': new Date().toISOString(),
        },
      },
    ]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'etui-inspect-e2e-'));
    const { session: s } = await dashboards.launch(
      { topic, group, cwd: dir },
      { what: 'connected, users read', until: (t) => /Kafka \S+ connected/.test(t) && /Users \(\d+\)/.test(t) },
      { columns: 80, rows: 24 },
    );

    // One after the other: two injections in flight at once may reach Kafka in either order, and the
    // detail below opens the second row, which must be the signup.
    s.keys('s');
    await s.waitForScreen('the signup in the stream', (t) => /user_signup\s+\S+/.test(t));
    s.keys('b');
    const both = await s.waitForScreen(
      'both events in the stream',
      (t) => /user_signup\s+\S+/.test(t) && /item_purchased\s+\S+/.test(t),
    );
    expect(both).toMatch(/╔═+╗\s*$/m); // the Users panel (focused at start) has the double border

    // Tab: the stream is focused; ↓ holds it; Enter: the event under the cursor with its trace.
    s.keys('Tab');
    await s.waitForScreen('the stream focused', (t) => /║Event stream/.test(t));
    s.keys('Down');
    await s.waitForScreen('the stream held', (t) => /Event stream \(held, \d+ new\)/.test(t));
    s.keys('Enter');
    const detail = await s.waitForScreen(
      'the detail with its trace',
      (t) => t.includes('event id') && t.includes('Redis look-up') && t.includes('type      user_signup'),
    );
    expect(detail).toMatch(new RegExp(`topic\\s+${topic}\\s+partition \\d\\s+offset \\d+`));
    s.keys('Escape');
    await s.waitForScreen('the panels again', (t) => t.includes('Event stream (held') && !t.includes('event id'));

    // / filter: only item_purchased rows; the status bar says so.
    s.keys('/');
    s.keys('-l', 'item_purchased');
    await s.waitForScreen('the filter typed', (t) => t.includes('filter /item_purchased'));
    s.keys('Enter');
    const filtered = await s.waitForScreen(
      'only item_purchased',
      (t) => t.includes('filter "item_purchased"') && !/user_signup/.test(t) && /item_purchased\s+\S+/.test(t),
    );
    expect(filtered).not.toContain('user_signup');

    // x: the filtered rows to a file in the working directory, named whole in the footer (at 80 columns the
    // counts after it give way to `? help  q quit`).
    s.keys('x');
    const exported = await s.waitForScreen('the export named', (t) => /exported to \S+\.jsonl/.test(t));
    const files = readdirSync(dir).filter((f) => /^eventstream-export-.+\.jsonl$/.test(f));
    expect(files).toHaveLength(1);
    expect(exported).toContain(`exported to ${files[0]}`);
    const rows = readFileSync(path.join(dir, files[0]!), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; type: string });
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.every((r) => r.type === 'item_purchased')).toBe(true);
    expect(rows.some((r) => r.kind === 'delivery')).toBe(true);
    s.keys('Escape');
    await s.waitForScreen('the filter cleared', (t) => !t.includes('filter "') && /user_signup/.test(t));

    // d: the dead letter from before this launch; Enter opens it; R and y replay it.
    s.keys('d');
    const letters = await s.waitForScreen('the dead letters', (t) =>
      /\d\/0\s+delivery-failed\s+email\s+user-01\s+0@7/.test(t),
    );
    expect(letters).toContain(`Dead letters of ${topic}.dlq`.slice(0, 60));
    s.keys('Enter');
    await s.waitForScreen('the letter opened', (t) => t.includes('Value (') && t.includes('provider down'));
    s.keys('R');
    await s.waitForScreen('the question', (t) => /y\/n: replay \S+ \(delivery-failed, email only\)/.test(t));
    s.keys('y');
    await s.waitForScreen('the replay said', (t) => /replayed \S+\.dlq\/\d\/0 \(delivery-failed\) to \S+/.test(t));
    const [replayed] = (await readTopic(topic, 3)).filter((m) => m.headers['replayed-from'] !== undefined);
    expect(replayed?.headers['replay-channel']).toBe('email');
    expect(JSON.parse(replayed!.value!.toString()).id).toBe(earlier.id);
    // Each Esc waits for its effect, so the screen each step checks is the one it expects.
    s.keys('Escape');
    await s.waitForScreen('the letter closed', (t) => t.includes('Dead letters of') && !t.includes('Value ('));
    s.keys('Escape');
    await s.waitForScreen('the panels again', (t) => t.includes('Event stream') && !t.includes('Dead letters of'));

    // l: one row per partition, the group's offsets and its owner (this dashboard's consumer).
    s.keys('l');
    const parts = await s.waitForScreen(
      'the partitions with their owner',
      (t) =>
        t.includes('Partitions of') && (t.match(/eventstream-tui/g) ?? []).length >= 3 && t.includes('total lag 0'),
    );
    for (const heading of ['partition', 'committed', 'end', 'lag', 'owner']) expect(parts).toContain(heading);
    s.keys('Escape');
    await s.waitForScreen('the partitions closed', (t) => !t.includes('Partitions of'));
    s.keys('q');
    expect(await s.exitCode()).toBe(0);
  });
});
