/**
 * Outages hold, they do not dead-letter: a real SMTP server (aiosmtpd) the test starts, stops by its
 * pid and starts again on the same port, through the real CLI on the real Kafka and Redis. While it is
 * down, its sends are parked in the schedule (reason `transport-down`) and the partition goes on; once
 * it answers, every parked send is delivered, once (distinct Message-IDs = events); after
 * `--outage-hold` they are dead-lettered `transport-down` with `dlq-channel`, and a replay delivers
 * them; a stop during an outage exits 0 with nothing dead-lettered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisSchedule } from '../../src/adapters/redis/schedule.js';
import { scheduleSendsKey } from '../../src/adapters/redis/keys.js';
import { scheduleMember } from '../../src/adapters/redis/schedule.js';
import mqtt from 'mqtt';
import { messageIdOf } from '../../src/adapters/smtp/smtp-transport.js';
import { idempotencyKey } from '../../src/adapters/transport/transport.js';
import { runCli, waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  createTopic,
  event,
  newRedis,
  produceEvents,
  readTopic,
  removeUsers,
  unique,
  writeUsers,
  type Line,
  type TestUser,
} from '../support/pipeline.js';
import { startMosquitto, startSmtpServer, type ServerProcess, type SmtpServer } from '../support/transports.js';

const redis = newRedis();
const schedule = new RedisSchedule(redis);
const prefix = unique('outage');
const running: CliProcess[] = [];
const servers: ServerProcess[] = [];
const userIds: string[] = [];
/** Every (event, channel) the tests may have parked: removed from the shared schedule at the end. */
const parkedMembers: { eventId: string; channel: string }[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.all(servers.map((s) => s.stop()));
  await schedule.done(parkedMembers).catch(() => undefined);
  await removeUsers(redis, userIds);
  redis.disconnect();
});

async function emailUsers(n: number, tag: string): Promise<TestUser[]> {
  const written = Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${tag}-${i}`,
    name: `User ${i}`,
    email: `${tag}-${i}@${prefix}.example.com`,
    prefs: { email: 'on', sms: 'off', push: 'off', console: i === 0 ? 'on' : 'off', webhook: 'off' },
  }));
  userIds.push(...written.map((u) => u.id));
  await writeUsers(redis, written);
  return written;
}

const parkedLines = (c: CliProcess): Line[] => c.deliveries({ status: 'deferred', reason: 'transport-down' });

function consume(topic: string, extra: string[]): CliProcess {
  const c = CliProcess.consume(topic, unique('outage-group'), extra);
  running.push(c);
  return c;
}

describe('an SMTP server that stops answering', () => {
  it('stopped ~20 s mid-run: parked, not dead-lettered; all delivered within 10 s of its return, none twice', async () => {
    let smtp: SmtpServer = await startSmtpServer();
    servers.push(smtp);
    const people = await emailUsers(10, 'mid');
    const topic = unique('outage-mid');
    await createTopic(topic);
    const before = Array.from({ length: 100 }, (_, i) => event('user_signup', people[i % 10]!.id, { plan: 'pro' }));
    const during = Array.from({ length: 100 }, (_, i) => event('user_signup', people[i % 10]!.id, { plan: 'pro' }));
    parkedMembers.push(...[...before, ...during].map((e) => ({ eventId: e.id, channel: 'email' })));
    const c = consume(topic, ['--smtp', smtp.url]);
    await produceEvents(topic, before);
    await c.waitForLines(
      'the first 100 emails sent',
      () => c.deliveries({ channel: 'email', status: 'sent' }).length >= 100,
      60_000,
    );

    await smtp.halt();
    const stoppedAt = Date.now();
    await produceEvents(topic, during);
    // Every send of the outage parked (the first after their tries, the rest at once); other channels go on.
    const duringIds = new Set<string>(during.map((e) => e.id));
    await c.waitForLines(
      'the 100 sends of the outage parked',
      () =>
        new Set(
          parkedLines(c)
            .map((l) => l.eventId)
            .filter((id) => duringIds.has(id as string)),
        ).size >= 100,
      60_000,
    );
    const parkedBy = Date.now() - stoppedAt;
    const consoleDuring = during.filter((e) => e.userId === people[0]!.id).map((e) => e.id);
    await c.waitForLines(
      'the console sends of the outage delivered',
      () => consoleDuring.every((id) => c.deliveries({ channel: 'console', status: 'sent', eventId: id }).length === 1),
      30_000,
    );
    const parked = parkedLines(c).find((l) => duringIds.has(l.eventId as string))!;
    expect(typeof parked.dueAt).toBe('string');
    expect(typeof parked.since).toBe('string');
    // Kept down about 20 s in all (the outage itself, not a wait for something to happen).
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - stoppedAt))));
    expect(c.lines.filter((l) => l.kind === 'deadletter')).toEqual([]);

    smtp = await smtp.restart();
    servers.push(smtp);
    const back = Date.now();
    const total = before.length + during.length;
    await c.waitForLines(
      'every email received',
      () => new Set(smtp.messages().map((m) => m.messageId)).size >= total,
      30_000,
    );
    const deliveredIn = Date.now() - back;
    process.stdout.write(
      `[outage] 100 sends parked within ${parkedBy} ms of the stop; all delivered ${deliveredIn} ms after the server was back\n`,
    );
    const mails = smtp.messages();
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(total);
    expect(mails).toHaveLength(total);
    expect(deliveredIn).toBeLessThan(10_000);
    await c.waitForLines(
      'the parked sends settled sent',
      () => new Set(c.deliveries({ channel: 'email', status: 'sent' }).map((l) => l.eventId)).size >= total,
      15_000,
    );
    expect(c.lines.filter((l) => l.kind === 'deadletter')).toEqual([]);
    expect(c.deliveries({ status: 'failed' })).toEqual([]);
    const exit = await c.stop('SIGTERM');
    expect(exit.code, c.stderr.slice(-2000)).toBe(0);
  }, 180_000);

  it('--outage-hold 5s with the server down: transport-down dead letters with dlq-channel; a replay delivers them once it is back', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    await smtp.halt();
    const people = await emailUsers(3, 'hold');
    const topic = unique('outage-hold');
    await createTopic(topic);
    const events = people.map((p) => event('user_signup', p.id, { plan: 'free' }));
    parkedMembers.push(...events.map((e) => ({ eventId: e.id, channel: 'email' })));
    await produceEvents(topic, events);
    const c = consume(topic, ['--smtp', smtp.url, '--outage-hold', '5s']);
    await c.waitForLines(
      'three transport-down dead letters',
      (ls) => ls.filter((l) => l.kind === 'deadletter').length >= 3,
      60_000,
    );
    expect(c.lines.filter((l) => l.kind === 'deadletter').map((l) => l.reason)).toEqual([
      'transport-down',
      'transport-down',
      'transport-down',
    ]);
    const letters = await readTopic(`${topic}.dlq`, 3);
    expect(letters.map((l) => [l.headers['dlq-reason'], l.headers['dlq-channel']])).toEqual(
      events.map(() => ['transport-down', 'email']),
    );
    expect(letters[0]!.headers['dlq-detail']).toMatch(
      /^email: the transport did not answer for the whole outage hold \(5s\)/,
    );

    const again = await smtp.restart();
    servers.push(again);
    const replay = await runCli([
      'dlq',
      'replay',
      '--brokers',
      brokers(),
      '--topic',
      topic,
      '--all',
      '--reason',
      'transport-down',
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    await c.waitForLines('the three replayed emails received', () => again.messages().length >= 3, 30_000);
    expect(new Set(again.messages().map((m) => m.messageId)).size).toBe(3);
    expect(
      again
        .messages()
        .map((m) => m.to[0])
        .sort(),
    ).toEqual(people.map((p) => p.email).sort());
    // The replay resent the email only: the console send of user 0 went out once, before the outage hold ran out.
    expect(c.deliveries({ channel: 'console', status: 'sent' })).toHaveLength(1);
    const exit = await c.stop('SIGTERM');
    expect(exit.code, c.stderr.slice(-2000)).toBe(0);
  }, 120_000);

  it('SIGTERM during an outage: exit 0, nothing dead-lettered, the parked sends stay parked; the stats say since when', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    await smtp.halt();
    const people = await emailUsers(2, 'term');
    const topic = unique('outage-term');
    await createTopic(topic);
    const events = people.flatMap((p) => [1, 2, 3].map(() => event('user_signup', p.id, { plan: 'free' })));
    parkedMembers.push(...events.map((e) => ({ eventId: e.id, channel: 'email' })));
    await produceEvents(topic, events);
    const c = consume(topic, ['--smtp', smtp.url, '--output', 'stats']);
    await c.waitForLines(
      'a stats line with the sends parked and the transport unreachable since',
      (ls) =>
        ls.some(
          (l) =>
            l.kind === 'stats' &&
            (l.parked as number) >= events.length &&
            /^unreachable since \d\d:\d\d$/.test(
              (l.transports as Record<string, { state?: string }>).email?.state ?? '',
            ),
        ),
      60_000,
    );
    const exit = await c.stop('SIGTERM');
    expect(exit.code, c.stderr.slice(-2000)).toBe(0);
    const last = c.lines.filter((l) => l.kind === 'stats').at(-1)!;
    expect(last.deadletter).toBe(0);
    const stored = await redis.hmget(scheduleSendsKey, ...events.map((e) => scheduleMember(e.id, 'email')));
    expect(stored.map((v) => (v ? (JSON.parse(v) as { reason: string }).reason : null))).toEqual(
      events.map(() => 'transport-down'),
    );
    // The schedule is shared by every consumer of this Redis: left parked, these would be sent by the
    // next test's consumers once their server answers (as they should be; not what that test counts).
    await schedule.done(events.map((e) => ({ eventId: e.id, channel: 'email' })));
  }, 120_000);
});

describe('several consumers through an outage', () => {
  it('two consumers of one group, each with its own view of the server: every email once after it is back', async () => {
    let smtp: SmtpServer = await startSmtpServer();
    servers.push(smtp);
    const people = await emailUsers(12, 'two');
    const topic = unique('outage-two');
    await createTopic(topic, 4);
    const group = unique('outage-group');
    const a = CliProcess.consume(topic, group, ['--smtp', smtp.url]);
    const b = CliProcess.consume(topic, group, ['--smtp', smtp.url]);
    running.push(a, b);
    await Promise.all([a.waitForAssignment(60_000), b.waitForAssignment(60_000)]);
    const before = Array.from({ length: 60 }, (_, i) => event('user_signup', people[i % 12]!.id, { plan: 'pro' }));
    const during = Array.from({ length: 120 }, (_, i) => event('user_signup', people[i % 12]!.id, { plan: 'pro' }));
    parkedMembers.push(...[...before, ...during].map((e) => ({ eventId: e.id, channel: 'email' })));
    const sent = (): number =>
      new Set(
        [...a.deliveries(), ...b.deliveries()]
          .filter((l) => l.channel === 'email' && l.status === 'sent')
          .map((l) => l.eventId),
      ).size;
    await produceEvents(topic, before);
    await a.waitForLines('the first 60 emails sent', () => sent() >= 60, 60_000);

    await smtp.halt();
    await produceEvents(topic, during);
    const duringIds = new Set<string>(during.map((e) => e.id));
    const parked = (): number =>
      new Set(
        [...a.deliveries(), ...b.deliveries()]
          .filter((l) => l.reason === 'transport-down' && l.status === 'deferred' && duringIds.has(l.eventId as string))
          .map((l) => l.eventId),
      ).size;
    await a.waitForLines('the 120 sends of the outage parked by the two', () => parked() >= 120, 60_000);

    smtp = await smtp.restart();
    servers.push(smtp);
    const back = Date.now();
    const total = before.length + during.length;
    await a.waitForLines(
      'every email received',
      () => new Set(smtp.messages().map((m) => m.messageId)).size >= total,
      30_000,
    );
    const deliveredIn = Date.now() - back;
    process.stdout.write(
      `[outage] two consumers: ${total} of ${total} received ${deliveredIn} ms after the server was back\n`,
    );
    // Received twice (the same Message-ID): which phase, and what each consumer said of them.
    const seen = new Map<string, number>();
    for (const m of smtp.messages()) seen.set(m.messageId, (seen.get(m.messageId) ?? 0) + 1);
    const idOf = new Map([...before, ...during].map((e) => [messageIdOf(idempotencyKey(e.id, 'email')), e.id]));
    const foreign = [...seen.keys()].filter((id) => !idOf.has(id));
    if (foreign.length > 0) process.stdout.write(`[outage] ${foreign.length} messages of other events\n`);
    for (const [messageId, n] of seen) {
      if (n < 2) continue;
      const eventId = idOf.get(messageId)!;
      const said = (c: CliProcess): string =>
        c
          .deliveries({ eventId, channel: 'email' })
          .map((l) => `${String(l.status)}/${String(l.reason)}/${String(l.attempts)}${l.deferred ? '/deferred' : ''}`)
          .join(',');
      process.stdout.write(
        `[outage] received ${n} times: ${eventId} (${duringIds.has(eventId) ? 'during' : 'before'} the outage) a=${said(a)} b=${said(b)}\n`,
      );
    }
    expect(smtp.messages()).toHaveLength(total);
    expect(deliveredIn).toBeLessThan(10_000);
    expect([...a.lines, ...b.lines].filter((l) => l.kind === 'deadletter')).toEqual([]);
    const [ea, eb] = await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    expect([ea.code, eb.code]).toEqual([0, 0]);
  }, 180_000);
});

describe('an MQTT broker that stops answering', () => {
  it('mosquitto stopped mid-run and started again on its port: parked, then every push once', async () => {
    let broker = await startMosquitto();
    servers.push(broker);
    const port = broker.port;
    const written = Array.from({ length: 4 }, (_, i) => ({
      id: `${prefix}-push-${i}`,
      name: `Push ${i}`,
      pushToken: `tok-${i}`,
      prefs: { email: 'off', sms: 'off', push: 'on', console: 'off', webhook: 'off' },
    }));
    userIds.push(...written.map((u) => u.id));
    await writeUsers(redis, written);
    const ids = new Set<string>();
    const subscriber = mqtt.connect(broker.url, { clientId: unique('sub'), reconnectPeriod: 200, clean: true });
    subscriber.on('connect', () => void subscriber.subscribe('eventstream/push/#', { qos: 1 }));
    subscriber.on('message', (_t, payload) => ids.add((JSON.parse(payload.toString('utf8')) as { id: string }).id));
    try {
      await waitFor('the subscriber connected', () => subscriber.connected || undefined, 15_000);
      const topic = unique('outage-mqtt');
      await createTopic(topic);
      const before = Array.from({ length: 20 }, (_, i) => event('user_signup', written[i % 4]!.id, { plan: 'pro' }));
      const during = Array.from({ length: 40 }, (_, i) => event('user_signup', written[i % 4]!.id, { plan: 'pro' }));
      parkedMembers.push(...[...before, ...during].map((e) => ({ eventId: e.id, channel: 'push' })));
      const c = consume(topic, ['--push-mqtt', broker.url]);
      await produceEvents(topic, before);
      await c.waitForLines('the first 20 pushes received', () => ids.size >= 20, 60_000);

      await broker.stop();
      await produceEvents(topic, during);
      await c.waitForLines('the 40 pushes of the outage parked', () => parkedLines(c).length >= 40, 60_000);
      expect(c.lines.filter((l) => l.kind === 'deadletter')).toEqual([]);

      broker = await startMosquitto(port);
      servers.push(broker);
      const back = Date.now();
      await c.waitForLines('every push received', () => ids.size >= 60, 30_000);
      const deliveredIn = Date.now() - back;
      process.stdout.write(`[outage] mqtt: 60 of 60 pushes received ${deliveredIn} ms after the broker was back\n`);
      expect(deliveredIn).toBeLessThan(10_000);
      await c.waitForLines(
        'the parked pushes settled sent',
        () => new Set(c.deliveries({ channel: 'push', status: 'sent' }).map((l) => l.eventId)).size >= 60,
        15_000,
      );
      expect(c.deliveries({ channel: 'push', status: 'sent' })).toHaveLength(60); // each once by the provider
      expect(c.lines.filter((l) => l.kind === 'deadletter')).toEqual([]);
      const exit = await c.stop('SIGTERM');
      expect(exit.code, c.stderr.slice(-2000)).toBe(0);
    } finally {
      subscriber.end(true);
    }
  }, 180_000);
});

describe('consume --outage-hold', () => {
  it('refuses a hold that is not a duration, with usage (exit 2); OUTAGE_HOLD alike', async () => {
    for (const value of ['soon', '10', '0s', '31d']) {
      const result = await runCli(['consume', '--outage-hold', value]);
      expect(result.code, value).toBe(2);
      expect(result.stderr, value).toMatch(/--outage-hold ".+" is not a duration/);
      expect(result.stderr, value).toMatch(/Usage|--help/);
    }
    const env = await runCli(['consume'], { ...process.env, OUTAGE_HOLD: 'later' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/OUTAGE_HOLD "later" is not a duration/);
  });
});
