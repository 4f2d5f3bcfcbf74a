/**
 * Faults on the consumer side, on the real Kafka and Redis: SIGKILL at random
 * moments, senders failing 30% of the time, SIGTERM under load. Every
 * (event, enabled channel) is sent exactly once, or dead-lettered, never lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CliProcess,
  committedOffsets,
  createTopic,
  newRedis,
  readTopic,
  removeUsers,
  unique,
  type Line,
  type TestUser,
} from '../support/pipeline.js';
import {
  audit,
  AUDIT_ENV,
  expectedPairs,
  faultUsers,
  printReport,
  produceFlow,
  PROFILE,
  trimOutboxes,
} from './harness.js';

const redis = newRedis();
let users: TestUser[] = [];
const running: CliProcess[] = [];

beforeAll(async () => {
  users = await faultUsers(redis, unique('fault'));
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await removeUsers(
    redis,
    users.map((u) => u.id),
  );
  await trimOutboxes(redis);
  redis.disconnect();
});

const consume = (topic: string, group: string, extra: string[] = []): CliProcess => {
  const p = CliProcess.consume(topic, group, extra, AUDIT_ENV);
  running.push(p);
  return p;
};

describe(`consumer faults (${PROFILE.name} profile: ${PROFILE.events} events)`, () => {
  it(`SIGKILL at random moments, ${PROFILE.kills} times, while events flow: nothing lost, nothing sent twice`, async () => {
    const topic = unique('kill');
    const group = unique('kill-group');
    await createTopic(topic, 3);
    const lines: Line[] = [];
    // Spread the events so they still flow at the last kill: each restart waits ~10 s for the
    // killed member's session to expire before the group rebalances.
    const rate = Math.ceil(PROFILE.events / (PROFILE.kills * 15));
    const flow = produceFlow(topic, users, PROFILE.events, rate);
    for (let kill = 0; kill < PROFILE.kills; kill++) {
      const victim = consume(topic, group);
      // let it deliver something, then cut the power at a random moment
      await victim.waitForLines('deliveries before the kill', (l) => l.some((x) => x.kind === 'delivery'), 60_000);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1500));
      await victim.stop('SIGKILL');
      lines.push(...victim.lines);
    }
    const events = await flow;
    const last = consume(topic, group, ['--drain']);
    const { code } = await last.exited;
    lines.push(...last.lines);
    expect(code, last.stderr.slice(-2000)).toBe(0);
    const report = await audit(redis, events, users, lines);
    printReport(`consumer SIGKILLed ${PROFILE.kills} times`, report);
    expect(report.lostPairs.slice(0, 5)).toEqual([]);
    expect(report.twicePairs.slice(0, 5)).toEqual([]);
    expect(report.sent).toBe(report.expected);
  });

  it('senders failing 30% of the time: retried with backoff; what still fails goes to the dead-letter topic; nothing dropped silently', async () => {
    const topic = unique('flaky');
    await createTopic(topic, 3);
    const events = await produceFlow(topic, users, Math.min(2_000, PROFILE.events), 5_000);
    const p = consume(topic, unique('flaky-group'), ['--failure-rate', '0.3', '--drain']);
    const { code } = await p.exited;
    expect(code, p.stderr.slice(-2000)).toBe(0);
    const report = await audit(redis, events, users, p.lines);
    const failedPairs = new Set(
      p.deliveries({ status: 'failed' }).map((d) => `${String(d.eventId)}/${String(d.channel)}`),
    );
    const letters = failedPairs.size > 0 ? await readTopic(`${topic}.dlq`, failedPairs.size, 60_000) : [];
    const lettered = new Set(
      letters.map((l) => `${JSON.parse(l.value!.toString()).id as string}/${l.headers['dlq-channel']}`),
    );
    report.deadLettered = lettered.size;
    printReport('senders failing 30%', report);
    expect(report.sentTwice).toBe(0);
    // every expected pair was accepted by its provider, or failed after every retry and is in the dead-letter topic
    const expected = expectedPairs(events, users);
    const unaccounted = [...expected].filter((pair) => report.lostPairs.includes(pair) && !lettered.has(pair));
    expect(unaccounted).toEqual([]);
    expect([...failedPairs].every((pair) => lettered.has(pair))).toBe(true);
    // A pair dead-lettered and then sent: its chunk was read again (a commit refused while the new
    // group's coordinator settled) and the send, tried again, went through: delivered, and its letter
    // replays as a duplicate. Only after such a re-read (duplicates in the output).
    const lost = new Set(report.lostPairs);
    const letteredThenSent = [...lettered].filter((pair) => !lost.has(pair));
    if (letteredThenSent.length > 0) expect(report.duplicateSuppressed).toBeGreaterThan(0);
    expect(report.sent + lettered.size - letteredThenSent.length).toBe(report.expected);
    // retries did their job: far fewer failures than the 30% of first attempts
    expect(failedPairs.size).toBeLessThan(report.expected * 0.05);
    expect(p.deliveries({ status: 'sent' }).some((d) => Number(d.attempts) > 1)).toBe(true);
  });

  it('SIGTERM at 5,000 events/s: exits 0 within 5 s, with offsets committed for everything delivered', async () => {
    const topic = unique('term');
    const group = unique('term-group');
    await createTopic(topic, 3);
    const p = consume(topic, group);
    const flow = produceFlow(topic, users, 25_000, 5_000);
    await p.waitForLines(
      'the flow to be under way',
      (l) => l.filter((x) => x.kind === 'delivery').length > 5_000,
      60_000,
    );
    const started = Date.now();
    const { code } = await p.stop('SIGTERM');
    const took = Date.now() - started;
    process.stdout.write(`[faults:${PROFILE.name}] SIGTERM under 5,000 events/s: exit ${code} after ${took} ms\n`);
    expect(code).toBe(0);
    expect(took).toBeLessThan(5_000);
    await flow;
    // Restarted, the group finds nothing it had delivered: every delivered event was committed.
    const { committed } = await committedOffsets(group, topic);
    expect(committed.size).toBeGreaterThan(0);
    const again = consume(topic, group, ['--drain']);
    expect((await again.exited).code).toBe(0);
    expect(again.deliveries({ status: 'duplicate' })).toEqual([]);
  });
});
