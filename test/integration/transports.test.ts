/**
 * The real transports against real servers the test starts on free ports and stops by pid: an SMTP
 * server (aiosmtpd), an HTTP server (Node's), an MQTT broker (mosquitto); through the real CLI on the
 * real Kafka and Redis. What a user would see: messages received (counted, with their ids and
 * recipients), the headless lines, the dead letters.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { messageIdOf } from '../../src/adapters/smtp/smtp-transport.js';
import { idempotencyKey } from '../../src/adapters/transport/transport.js';
import { pushTopic } from '../../src/adapters/mqtt/mqtt-transport.js';
import { runCli, waitFor } from '../support/cli.js';
import {
  brokers,
  CliProcess,
  createTopic,
  event,
  firstOutcomes,
  newRedis,
  produceEvents,
  readTopic,
  removeUsers,
  unique,
  writeUsers,
  type TestUser,
} from '../support/pipeline.js';
import { startMosquitto, startSmtpServer, type ServerProcess } from '../support/transports.js';

const redis = newRedis();
const prefix = unique('tx');
const running: CliProcess[] = [];
const servers: ServerProcess[] = [];
const httpServers: http.Server[] = [];
const userIds: string[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(httpServers.map((s) => new Promise((r) => s.close(r))));
  await removeUsers(redis, userIds);
  redis.disconnect();
});

/** Users with only the channels named on. */
async function users(specs: (Omit<TestUser, 'prefs'> & { on: string[] })[]): Promise<TestUser[]> {
  const written = specs.map(({ on, ...u }) => ({
    ...u,
    prefs: Object.fromEntries(
      ['email', 'sms', 'push', 'console', 'webhook'].map((c) => [c, on.includes(c) ? 'on' : 'off']),
    ),
  }));
  userIds.push(...written.map((u) => u.id));
  await writeUsers(redis, written);
  return written;
}

/** `consume --drain` over what the topic holds now; resolves once it exited 0. */
async function drain(topic: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<CliProcess> {
  const p = CliProcess.consume(topic, unique('tx-group'), ['--drain', ...extra], env);
  running.push(p);
  const exit = await p.exited;
  expect(exit.code, p.stderr.slice(-3000)).toBe(0);
  return p;
}

describe('email over SMTP (aiosmtpd)', () => {
  it('1,000 events for email-on users: 1,000 messages, distinct Message-IDs derived from (event, channel), each to its user', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const people = await users(
      Array.from({ length: 10 }, (_, i) => ({
        id: `${prefix}-mail-${i}`,
        name: `Mail ${i}`,
        email: `mail-${i}@${prefix}.example.com`,
        on: ['email'],
      })),
    );
    const topic = unique('tx-smtp');
    await createTopic(topic);
    const events = Array.from({ length: 1000 }, (_, i) =>
      event('user_signup', people[i % people.length]!.id, { plan: 'pro' }),
    );
    await produceEvents(topic, events);
    const started = Date.now();
    const c = await drain(topic, ['--smtp', smtp.url, '--smtp-from', `Alerts <alerts@${prefix}.example.com>`]);
    process.stdout.write(
      `[transports] 1,000 emails over SMTP in ${Date.now() - started} ms (start and group join included)\n`,
    );

    expect(c.deliveries({ channel: 'email', status: 'sent' })).toHaveLength(1000);
    const mails = smtp.messages();
    expect(mails).toHaveLength(1000);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(1000);
    const byId = new Map(mails.map((m) => [m.messageId, m]));
    const emailOf = new Map(people.map((p) => [p.id, p.email]));
    for (const e of events) {
      const mail = byId.get(messageIdOf(idempotencyKey(e.id, 'email')));
      expect(mail, `the message of event ${e.id}`).toBeDefined();
      expect(mail!.to).toEqual([emailOf.get(e.userId)]);
      expect(mail!.from).toBe(`alerts@${prefix}.example.com`);
    }
    expect(mails[0]!.subject).toBeTruthy();
  });

  it('a server answering 550: rejected dead letters with its reply, the other user delivered; replay resends only the email', async () => {
    const ghostAddress = `ghost@${prefix}.example.com`;
    const smtp = await startSmtpServer([ghostAddress]);
    servers.push(smtp);
    const [ghost, good] = await users([
      { id: `${prefix}-ghost`, name: 'Ghost', email: ghostAddress, on: ['email', 'console'] },
      { id: `${prefix}-good`, name: 'Good', email: `good@${prefix}.example.com`, on: ['email'] },
    ]);
    const topic = unique('tx-550');
    await createTopic(topic);
    const ghostEvents = [1, 2, 3].map(() => event('user_signup', ghost!.id, { plan: 'free' }));
    const goodEvents = [1, 2, 3].map(() => event('user_signup', good!.id, { plan: 'free' }));
    await produceEvents(topic, [...ghostEvents, ...goodEvents]);
    const c = await drain(topic, ['--smtp', smtp.url]);

    const reply = `550 5.1.1 <${ghostAddress}>: Recipient address rejected: User unknown in local recipient table`;
    // Each pair's first line is its outcome (a chunk read again after a rebalance tries the refused
    // send once more, refused alike: firstOutcomes holds those lines to that).
    const failed = firstOutcomes(c.lines).filter((d) => d.channel === 'email' && d.userId === ghost!.id);
    expect(failed.map((d) => [d.status, d.reason, d.attempts])).toEqual(
      ghostEvents.map(() => ['failed', `rejected: ${reply}`, 1]),
    );
    expect(c.deliveries({ channel: 'console', userId: ghost!.id, status: 'sent' })).toHaveLength(3);
    // One letter per event read: a chunk read again writes its letters again, each from the same offset.
    const letterLines = new Map(
      c.lines.filter((l) => l.kind === 'deadletter').map((l) => [`${String(l.partition)}@${String(l.offset)}`, l]),
    );
    expect(
      [...letterLines.values()].map((l) => [l.reason, l.detail]),
      JSON.stringify(c.lines.filter((l) => l.kind !== 'lookup' && l.kind !== 'stats')),
    ).toEqual(ghostEvents.map(() => ['rejected', `email: ${reply}`]));
    const reread = c.lines.filter((l) => l.kind === 'deadletter').length - letterLines.size;
    expect(c.deliveries({ channel: 'email', userId: good!.id, status: 'sent' })).toHaveLength(3);
    expect(smtp.messages().map((m) => m.to)).toEqual(goodEvents.map(() => [good!.email]));

    const letters = await readTopic(`${topic}.dlq`, 3 + reread);
    expect(letters).toHaveLength(3 + reread);
    expect([
      ...new Set(
        letters.map((l) =>
          JSON.stringify([l.headers['dlq-reason'], l.headers['dlq-channel'], l.headers['dlq-detail']]),
        ),
      ),
    ]).toEqual([JSON.stringify(['rejected', 'email', `email: ${reply}`])]);
    const listed = await runCli(['dlq', 'list', '--brokers', brokers(), '--topic', topic, '--reason', 'rejected']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(3 + reread);

    // The mailbox exists now: a server that takes it, the letters replayed. Only the email goes again;
    // the console, sent before, is a duplicate.
    const mended = await startSmtpServer();
    servers.push(mended);
    const replayed = await runCli([
      'dlq',
      'replay',
      '--brokers',
      brokers(),
      '--topic',
      topic,
      '--all',
      '--reason',
      'rejected',
    ]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stderr).toContain(`(rejected ${3 + reread})`);
    const again = await drain(topic, ['--smtp', mended.url]);
    // A letter written twice is replayed twice: its second copy is `duplicate`, never sent twice.
    const resent = again.lines.filter((l) => l.kind === 'delivery' && l.userId === ghost!.id && l.status === 'sent');
    expect(resent.map((l) => l.channel).sort()).toEqual(['email', 'email', 'email']);
    expect(
      mended
        .messages()
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(ghostEvents.map((e) => messageIdOf(idempotencyKey(e.id, 'email'))).sort());
  });
});

interface Hit {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

describe('signed webhooks (a Node http server)', () => {
  it('signatures verify with the secret; 429 Retry-After: 2 is waited; 500 retried; 400 dead-lettered', async () => {
    const secretBytes = Buffer.from(`${prefix}-secret-bytes-0123456789`).subarray(0, 24);
    const secret = `whsec_${secretBytes.toString('base64')}`;
    const [ok, slow, flaky, refused] = await users(
      ['ok', 'slow', 'flaky', 'refused'].map((n) => ({ id: `${prefix}-hook-${n}`, name: n, on: ['webhook'] })),
    );
    const hits: Hit[] = [];
    const triesOf = new Map<string, number>();
    const server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const { userId } = JSON.parse(body) as { userId: string };
        const id = String(req.headers['webhook-id']);
        const tries = (triesOf.get(id) ?? 0) + 1;
        triesOf.set(id, tries);
        let status = 204;
        const headers: Record<string, string> = {};
        if (userId === slow!.id && tries === 1) {
          status = 429;
          headers['retry-after'] = '2';
        } else if (userId === flaky!.id && tries <= 2) status = 500;
        else if (userId === refused!.id) status = 400;
        hits.push({ at: Date.now(), headers: req.headers, body, status });
        res.writeHead(status, headers);
        res.end(status === 400 ? 'unknown relay target' : '');
      });
    });
    httpServers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/eventstream`;

    const topic = unique('tx-hook');
    await createTopic(topic);
    const events = [ok, ok, slow, flaky, refused].map((u) =>
      event('item_purchased', u!.id, { orderId: 'o-1', item: 'lamp', amount: 12 }),
    );
    await produceEvents(topic, events);
    const c = await drain(topic, ['--webhook-url', url], { WEBHOOK_SECRET: secret });

    // Every request signed as the spec says, with the secret's bytes; the body names the event.
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    for (const hit of hits) {
      const id = String(hit.headers['webhook-id']);
      const timestamp = String(hit.headers['webhook-timestamp']);
      const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${hit.body}`).digest('base64')}`;
      expect(hit.headers['webhook-signature']).toBe(expected);
      expect(Math.abs(Number(timestamp) * 1000 - hit.at)).toBeLessThan(60_000);
      const body = JSON.parse(hit.body) as Record<string, unknown>;
      const e = events.find((x) => x.id === body.eventId)!;
      expect(body).toEqual({
        id: idempotencyKey(e.id, 'webhook'),
        eventId: e.id,
        type: 'item_purchased',
        userId: e.userId,
        occurredAt: e.occurredAt,
        text: expect.stringContaining('lamp'),
      });
      expect(id).toBe(body.id);
    }
    const hitsOf = (u: TestUser) => hits.filter((h) => (JSON.parse(h.body) as { userId: string }).userId === u.id);
    expect(hitsOf(ok!).map((h) => h.status)).toEqual([204, 204]);
    const [first, second] = hitsOf(slow!);
    expect([first!.status, second!.status]).toEqual([429, 204]);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
    expect(hitsOf(flaky!).map((h) => h.status)).toEqual([500, 500, 204]);
    expect(new Set(hitsOf(flaky!).map((h) => h.headers['webhook-id'])).size).toBe(1);
    // A 400 is final; a chunk read again tries it once more (the same webhook-id), never a 2xx.
    expect(hitsOf(refused!).length).toBeGreaterThanOrEqual(1);
    expect(new Set(hitsOf(refused!).map((h) => h.status))).toEqual(new Set([400]));
    expect(new Set(hitsOf(refused!).map((h) => h.headers['webhook-id'])).size).toBe(1);

    // Each event's first line is its outcome. A chunk read again (its first commit refused while a new
    // group's coordinator loads, on a busy broker) adds lines, `duplicate` or `sent` again on the
    // transport's own idempotency record: the receiver's hits above show nothing was sent twice.
    const outcome = (u: TestUser) => {
      const first = new Map<unknown, Record<string, unknown>>();
      for (const d of c.deliveries({ channel: 'webhook', userId: u.id })) {
        const before = first.get(d.eventId);
        if (before) expect(['duplicate', 'sent', before.status], `${String(d.eventId)} again`).toContain(d.status);
        else first.set(d.eventId, d);
      }
      return [...first.values()].map((d) => [d.status, d.reason, d.attempts]);
    };
    expect(outcome(ok!)).toEqual([
      ['sent', null, 1],
      ['sent', null, 1],
    ]);
    // The retries' count is the receiver's (above): a chunk read again splits them over two passes.
    expect(outcome(slow!).map(([status, reason]) => [status, reason])).toEqual([['sent', null]]);
    expect(outcome(flaky!).map(([status, reason]) => [status, reason])).toEqual([['sent', null]]);
    expect(outcome(refused!)).toEqual([['failed', 'rejected: 400 unknown relay target', 1]]);
    const [letter] = await readTopic(`${topic}.dlq`, 1);
    expect(letter!.headers).toMatchObject({
      'dlq-reason': 'rejected',
      'dlq-channel': 'webhook',
      'dlq-detail': 'webhook: 400 unknown relay target',
    });
  });
});

describe('push over MQTT (mosquitto)', () => {
  it('QoS 1 to eventstream/push/<userId>: a subscriber counts each user’s messages, ids the (event, channel) keys', async () => {
    const broker = await startMosquitto();
    servers.push(broker);
    const [plain, odd] = await users([
      { id: `${prefix}-push`, name: 'Plain', pushToken: 'tok-1', on: ['push'] },
      { id: `${prefix}-we/ird+id#%`, name: 'Odd', pushToken: 'tok-2', on: ['push'] },
    ]);
    const received: { topic: string; payload: Record<string, unknown> }[] = [];
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: unique('sub') });
    try {
      subscriber.on('message', (topic, payload) =>
        received.push({ topic, payload: JSON.parse(payload.toString('utf8')) as Record<string, unknown> }),
      );
      await subscriber.subscribeAsync('eventstream/push/#', { qos: 1 });
      const topic = unique('tx-mqtt');
      await createTopic(topic);
      const events = [
        ...Array.from({ length: 40 }, () => event('user_signup', plain!.id, { plan: 'team' })),
        ...Array.from({ length: 25 }, () => event('user_signup', odd!.id, { plan: 'team' })),
      ];
      await produceEvents(topic, events);
      const c = await drain(topic, ['--push-mqtt', broker.url]);
      expect(c.deliveries({ channel: 'push', status: 'sent' })).toHaveLength(65);
      await waitFor('65 messages at the subscriber', () => received.length >= 65, 15_000);

      const perTopic = new Map<string, number>();
      for (const r of received) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
      expect(Object.fromEntries(perTopic)).toEqual({
        [`eventstream/push/${prefix}-push`]: 40,
        [`eventstream/push/${prefix}-we%2Fird%2Bid%23%25`]: 25,
      });
      expect(pushTopic(odd!.id)).toBe(`eventstream/push/${prefix}-we%2Fird%2Bid%23%25`);
      expect(received.map((r) => r.payload.id).sort()).toEqual(events.map((e) => idempotencyKey(e.id, 'push')).sort());
      const oddOne = received.find((r) => r.payload.userId === odd!.id)!;
      expect(oddOne.payload).toEqual({
        id: expect.stringMatching(/^push_[0-9a-f]{32}$/),
        eventId: expect.any(String),
        userId: odd!.id,
        text: expect.any(String),
      });
    } finally {
      await subscriber.endAsync();
    }
  });
});

describe('the stats line', () => {
  it("names each channel's transport and whether it answers, never a password or secret", async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    // A broker started and stopped at once: nothing answers on its port.
    const gone = await startMosquitto();
    const deadPort = gone.port;
    await gone.stop();
    const topic = unique('tx-stats');
    await createTopic(topic);
    const secret = `whsec_${Buffer.from(`${prefix}-0123456789abcdef`).toString('base64')}`;
    const c = CliProcess.consume(
      topic,
      unique('tx-group'),
      [
        '--output',
        'stats',
        '--smtp',
        `smtp://alice@127.0.0.1:${smtp.port}`,
        '--push-mqtt',
        `mqtt://127.0.0.1:${deadPort}`,
        '--webhook-url',
        'http://127.0.0.1:9/hooks?token=hush-hush',
      ],
      { SMTP_PASSWORD: 'pa55-w0rd', WEBHOOK_SECRET: secret },
    );
    running.push(c);
    await c.waitForLines(
      'a stats line where email answers and push does not',
      (lines) => {
        const t = lines.at(-1)?.transports as Record<string, { answers?: boolean }> | undefined;
        return t?.email?.answers !== undefined && t.email.answers !== null && t.push?.answers === false;
      },
      30_000,
    );
    const stats = c.lines.at(-1)!;
    expect(stats.transports).toEqual({
      email: { via: `smtp://alice@127.0.0.1:${smtp.port}`, answers: true },
      sms: { via: 'mock' },
      push: {
        via: `mqtt://127.0.0.1:${deadPort}`,
        answers: false,
        state: expect.stringMatching(/^unreachable since \d\d:\d\d$/) as unknown,
        since: expect.any(String) as unknown,
      },
      console: { via: 'mock' },
      webhook: { via: 'http://127.0.0.1:9/hooks?token=***', answers: null },
    });
    await c.stop();
    const everything = JSON.stringify(c.lines) + c.stderr;
    for (const hidden of ['pa55-w0rd', 'hush-hush', secret]) expect(everything).not.toContain(hidden);
  });
});

describe('a SIGKILL after the server accepted, before the record: at least once, with a stable key', () => {
  /**
   * 30 events; a consumer killed (EVENTSTREAM_CRASH_AT=transport-before-record) right after a server
   * accepted a batch and before its records were written; a second consumer drains the topic. Returns
   * the ids the server received, in order.
   */
  async function crashThenDrain(
    channel: string,
    flags: string[],
    received: () => string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ expected: string[]; ids: string[] }> {
    const [person] = await users([
      {
        id: `${prefix}-kill-${channel}`,
        name: 'Kill',
        email: `kill@${prefix}.example.com`,
        pushToken: 'tok-k',
        on: [channel],
      },
    ]);
    const topic = unique(`tx-kill-${channel}`);
    await createTopic(topic, 1);
    const events = Array.from({ length: 30 }, () => event('user_signup', person!.id, { plan: 'pro' }));
    await produceEvents(topic, events);
    const group = unique('tx-kill-group');
    const killed = CliProcess.consume(topic, group, flags, { ...env, EVENTSTREAM_CRASH_AT: 'transport-before-record' });
    running.push(killed);
    expect((await killed.exited).signal).toBe('SIGKILL');
    const before = received().length;
    expect(before).toBeGreaterThan(0);
    // Another group reads the topic again, as the killed one's would once its session expired (without
    // waiting for that): the ledger and the records say nothing was sent, so every send goes again.
    const again = CliProcess.consume(topic, unique('tx-kill-again'), ['--drain', ...flags], env);
    running.push(again);
    expect((await again.exited).code, again.stderr.slice(-2000)).toBe(0);
    const ids = received();
    const duplicates = ids.length - new Set(ids).size;
    process.stdout.write(
      `[transports] ${channel}: ${new Set(ids).size} of 30 received, ${duplicates} twice (same key), ${before} before the kill\n`,
    );
    return { expected: events.map((e) => idempotencyKey(e.id, channel)), ids };
  }

  const expectAtLeastOnce = ({ expected, ids }: { expected: string[]; ids: string[] }): void => {
    // Nothing lost; each resend carries the key of the send it repeats, and each key came at most twice.
    expect([...new Set(ids)].sort()).toEqual([...expected].sort());
    const times = new Map<string, number>();
    for (const id of ids) times.set(id, (times.get(id) ?? 0) + 1);
    expect(Math.max(...times.values())).toBeLessThanOrEqual(2);
    expect(ids.length).toBeGreaterThan(new Set(ids).size); // the kill came after an acceptance
  };

  it('webhook', async () => {
    const ids: string[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        ids.push(String(req.headers['webhook-id']));
        res.writeHead(204).end();
      });
    });
    httpServers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
    const secret = `whsec_${Buffer.from(`${prefix}-kill-0123456789`).toString('base64')}`;
    expectAtLeastOnce(await crashThenDrain('webhook', ['--webhook-url', url], () => ids, { WEBHOOK_SECRET: secret }));
  });

  it('email', async () => {
    const smtp = await startSmtpServer();
    servers.push(smtp);
    const keyOf = (messageId: string) => messageId.replace(/^<|@eventstream-tui>$/g, '');
    expectAtLeastOnce(
      await crashThenDrain('email', ['--smtp', smtp.url], () => smtp.messages().map((m) => keyOf(m.messageId))),
    );
  });

  it('push', async () => {
    const broker = await startMosquitto();
    servers.push(broker);
    const ids: string[] = [];
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: unique('sub') });
    try {
      subscriber.on('message', (_t, payload) =>
        ids.push(String((JSON.parse(payload.toString()) as { id: string }).id)),
      );
      await subscriber.subscribeAsync('eventstream/push/#', { qos: 1 });
      const result = await crashThenDrain('push', ['--push-mqtt', broker.url], () => ids);
      await waitFor('every push at the subscriber', () => new Set(ids).size >= 30, 10_000);
      expectAtLeastOnce({ ...result, ids });
    } finally {
      await subscriber.endAsync();
    }
  });
});

describe('the transport flags', () => {
  it('a bad value is a usage error (exit 2) naming the flag, never showing a password', async () => {
    const withPassword = await runCli(['consume', '--smtp', 'smtp://bob:hunter2@mail.example.com:25']);
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain('--smtp "smtp://bob:***@mail.example.com:25" carries a password');
    expect(withPassword.stderr).not.toContain('hunter2');
    const noSecret = await runCli(['consume', '--webhook-url', 'https://relay.example.com/in'], {
      ...process.env,
      WEBHOOK_SECRET: '',
    });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('--webhook-url needs a signing secret: WEBHOOK_SECRET or --webhook-secret-file');
    const scheme = await runCli(['consume', '--push-mqtt', 'tcp://broker:1883']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('--push-mqtt "tcp://broker:1883" must start with mqtt://');
  });
});
