/**
 * Security options against real servers: a Kafka broker with SASL (PLAIN and
 * SCRAM-SHA-256) and a Redis with an ACL user. Right credentials work; wrong
 * ones give a clear error, no stack trace, and the secret is never printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { probeBrokers } from '../../src/app/runtime.js';
import { ensureKafkaJars } from '../../src/stack/kafka-runtime.js';
import { stackPaths } from '../../src/stack/paths.js';
import { probeKafka } from '../../src/adapters/kafka/probe.js';
import { probeRedis } from '../../src/adapters/redis/probe.js';
import { startDetached, stopPid } from '../../src/stack/processes.js';
import { findOnPath, runProgram } from '../../src/stack/toolchain.js';
import { binPath, freePort, runCli, waitFor } from '../support/cli.js';
import { TmuxSession } from '../support/tmux.js';
import { unique } from '../support/pipeline.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-security-'));
const pids: number[] = [];
let saslPort = 0;
let tlsPort = 0;
let caFile = '';
let aclPort = 0;

const noTrace = (text: string): void => expect(text).not.toMatch(/ {4}at .*\(|node:internal/);

/** A broker on spare ports with the given listener lines (the local stack's jars, its own folder). */
async function startTestBroker(
  name: string,
  listeners: (port: number) => string[],
  formatArgs: string[] = [],
): Promise<{ port: number; died: Promise<never> }> {
  const paths = stackPaths();
  await ensureKafkaJars(paths);
  const port = await freePort(); // and port + 1, the controller's
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      'controller.listener.names=CONTROLLER',
      `controller.quorum.bootstrap.servers=localhost:${port + 1}`,
      `log.dirs=${path.join(dir, 'data')}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      ...listeners(port),
      '',
    ].join('\n'),
  );
  const java = findOnPath('java')!;
  const cp = `${paths.kafkaLibs}/*`;
  const id = (await runProgram(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], process.env)).output
    .trim()
    .split('\n')
    .pop()!;
  const formatted = await runProgram(
    java,
    ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', id, '-c', config, '--standalone', ...formatArgs],
    process.env,
  );
  expect(formatted.code, formatted.output).toBe(0);
  const log = path.join(dir, 'kafka.log');
  const broker = startDetached(java, ['-Xmx384m', '-cp', cp, 'kafka.Kafka', config], log, dir);
  pids.push(broker.pid);
  // A broker that dies at start (a port taken after all) fails the wait at once, with its reason.
  const died = broker.exited.then((code) => {
    const tail = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /Exception|ERROR/.test(l))
      .slice(0, 3);
    throw new Error(`the ${name} exited (code ${code}): ${tail.join(' | ')}`);
  });
  died.catch(() => undefined);
  return { port, died };
}

beforeAll(async () => {
  // One SASL_PLAINTEXT listener: users alice (PLAIN) and bob (SCRAM-SHA-256).
  const sasl = await startTestBroker(
    'sasl-broker',
    (port) => [
      `listeners=SASL_PLAINTEXT://localhost:${port},CONTROLLER://localhost:${port + 1}`,
      `advertised.listeners=SASL_PLAINTEXT://localhost:${port}`,
      'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=SASL_PLAINTEXT',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
      'sasl.mechanism.inter.broker.protocol=PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";',
      'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    ],
    ['--add-scram', 'SCRAM-SHA-256=[name=bob,password=bob-secret]'],
  );

  // One TLS listener with a self-signed certificate for localhost; clients trust it through --kafka-ca.
  const keystore = path.join(tmp, 'broker.p12');
  caFile = path.join(tmp, 'ca.pem');
  const keytool = findOnPath('keytool')!;
  execFileSync(
    keytool,
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '2',
      '-dname',
      'CN=localhost',
      '-ext',
      'SAN=dns:localhost,ip:127.0.0.1',
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      'changeit',
      '-keypass',
      'changeit',
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    keytool,
    ['-exportcert', '-alias', 'broker', '-keystore', keystore, '-storepass', 'changeit', '-rfc', '-file', caFile],
    { stdio: 'ignore' },
  );
  const internalPort = await freePort();
  const tls = await startTestBroker('tls-broker', (port) => [
    `listeners=SSL://localhost:${port},INTERNAL://localhost:${internalPort},CONTROLLER://localhost:${port + 1}`,
    `advertised.listeners=SSL://localhost:${port},INTERNAL://localhost:${internalPort}`,
    'listener.security.protocol.map=SSL:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=INTERNAL',
    `ssl.keystore.location=${keystore}`,
    'ssl.keystore.password=changeit',
    'ssl.keystore.type=PKCS12',
    'ssl.key.password=changeit',
  ]);

  // A Redis whose only user is alice.
  aclPort = await freePort();
  const redis = startDetached(
    findOnPath('redis-server')!,
    [
      '--port',
      String(aclPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--user',
      'default',
      'off',
      '--user',
      'alice',
      'on',
      '>r3dis-secret',
      '~*',
      '&*',
      '+@all',
    ],
    path.join(tmp, 'redis.log'),
    tmp,
  );
  pids.push(redis.pid);
  saslPort = sasl.port;
  tlsPort = tls.port;
  await Promise.race([
    sasl.died,
    waitFor('the SASL broker', async () => (await probeKafka('localhost', saslPort, 500)).state === 'answers', 90_000),
  ]);
  await Promise.race([
    tls.died,
    waitFor(
      'the TLS broker',
      async () => (await probeKafka('localhost', tlsPort, 500, { ca: caFile })).state === 'answers',
      90_000,
    ),
  ]);
  await waitFor('the ACL Redis', async () => (await probeRedis('127.0.0.1', aclPort, 500)).state === 'answers', 20_000);
}, 300_000);

afterAll(async () => {
  for (const pid of pids) await stopPid(pid, 20_000);
});

describe('Kafka SASL', () => {
  const redisUrl = (): string => `redis://alice:r3dis-secret@127.0.0.1:${aclPort}`;

  it.each([
    ['PLAIN', { KAFKA_SASL_MECHANISM: 'plain', KAFKA_USERNAME: 'alice', KAFKA_PASSWORD: 'alice-secret' }],
    ['SCRAM-SHA-256', { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_USERNAME: 'bob', KAFKA_PASSWORD: 'bob-secret' }],
  ])('%s: produces and consumes with the right credentials, and never prints the password', async (_name, creds) => {
    const topic = unique('sasl');
    const env = { ...process.env, ...creds };
    const produced = await runCli(
      [
        'produce',
        '--brokers',
        `localhost:${saslPort}`,
        '--redis',
        redisUrl(),
        '--topic',
        topic,
        '--user',
        'user-01',
        '--count',
        '2',
      ],
      env,
    );
    expect(produced.code, produced.stderr).toBe(0);
    // Nothing on stderr but kafkajs' own lines about a request it retried (a loaded machine can slow
    // the new broker's first answers): no error of ours, no credentials.
    for (const line of produced.stderr.split('\n').filter(Boolean))
      expect(JSON.parse(line) as Record<string, unknown>, line).toMatchObject({ logger: 'kafkajs' });
    const consumed = await runCli(
      [
        'consume',
        '--drain',
        '--brokers',
        `localhost:${saslPort}`,
        '--redis',
        redisUrl(),
        '--topic',
        topic,
        '--group',
        unique('g'),
        '--output',
        'stats',
      ],
      env,
      60_000,
    );
    expect(consumed.code).toBe(0);
    expect(JSON.parse(consumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({ consumed: 2 });
    const listed = await runCli(['dlq', 'list', '--brokers', `localhost:${saslPort}`, '--topic', topic], env);
    expect([listed.code, listed.stderr]).toEqual([0, `no dead letters in ${topic}.dlq: the topic is empty\n`]);
    for (const out of [produced.stdout, produced.stderr, consumed.stdout, consumed.stderr])
      expect(out).not.toContain(creds.KAFKA_PASSWORD);
  });

  it('a wrong password: a clear error, exit 1, no stack trace, no secret', async () => {
    const result = await runCli(
      [
        'produce',
        '--brokers',
        `localhost:${saslPort}`,
        '--redis',
        redisUrl(),
        '--topic',
        unique('sasl'),
        '--count',
        '1',
      ],
      {
        ...process.env,
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_USERNAME: 'alice',
        KAFKA_PASSWORD: 'not-the-password',
      },
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*(SASL|[Aa]uthentication)/m);
    expect(result.stderr).not.toContain('not-the-password');
    noTrace(result.stderr);
  });

  it('a mechanism without a password is a usage error naming what is missing', async () => {
    const result = await runCli(
      ['produce', '--brokers', `localhost:${saslPort}`, '--kafka-sasl', 'plain', '--kafka-username', 'alice'],
      { ...process.env, KAFKA_PASSWORD: '' },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /SASL plain needs a user name .* and a password \(KAFKA_PASSWORD or --kafka-password-file\)/,
    );
  });

  it('--help names the options and shows no secret', async () => {
    const result = await runCli(['consume', '--help'], { ...process.env, KAFKA_PASSWORD: 'help-secret' });
    expect(result.stdout).toMatch(/--kafka-sasl <mechanism>/);
    expect(result.stdout).toMatch(/--kafka-password-file <path>/);
    expect(result.stdout).not.toContain('help-secret');
  });
});

describe('Kafka TLS', () => {
  it('produces and consumes over TLS, trusting the broker through --kafka-ca', async () => {
    const topic = unique('tls');
    const tlsFlags = ['--brokers', `localhost:${tlsPort}`, '--kafka-ca', caFile, '--topic', topic];
    const produced = await runCli(['produce', ...tlsFlags, '--user', 'user-01', '--count', '3']);
    expect(produced.code, produced.stderr).toBe(0);
    // Nothing on stderr but kafkajs' own lines about a request it retried (a loaded machine can slow
    // the new broker's first answers): no error of ours, no credentials.
    for (const line of produced.stderr.split('\n').filter(Boolean))
      expect(JSON.parse(line) as Record<string, unknown>, line).toMatchObject({ logger: 'kafkajs' });
    const consumed = await runCli(
      ['consume', '--drain', ...tlsFlags, '--group', unique('g'), '--output', 'stats'],
      process.env,
      60_000,
    );
    expect(consumed.code).toBe(0);
    expect(JSON.parse(consumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({ consumed: 3 });
    // dlq list reads over the same TLS: a group with a 10-byte limit dead-letters the three events
    const tooLarge = ['consume', '--drain', ...tlsFlags, '--group', unique('g'), '--max-bytes', '10'];
    expect((await runCli([...tooLarge, '--output', 'none'], process.env, 60_000)).code).toBe(0);
    const listed = await runCli(['dlq', 'list', ...tlsFlags]);
    expect(listed.stderr).toBe(`listed 3 of 3 dead letters in ${topic}.dlq\n`);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { reason: string }).reason),
    ).toEqual(['too-large', 'too-large', 'too-large']);
  });

  it("the dashboard's Kafka health probe speaks TLS as the pipeline does (a plain probe takes the broker for down)", async () => {
    const config = resolveConfig({ brokers: `localhost:${tlsPort}`, kafkaCa: caFile }, {});
    const [probe] = await probeBrokers(config.brokers, 1500, config.kafkaSecurity);
    expect(probe).toMatchObject({ state: 'answers' });
    // what the dashboard probed with before: no TLS, and the status bar went red while all was well
    expect((await probeKafka('localhost', tlsPort, 1500)).state).not.toBe('answers');
  });

  it('the dashboard on the TLS broker stays green: connected, and no ⚠ Kafka over three probe rounds', async () => {
    const session = new TmuxSession(
      [
        process.execPath,
        binPath,
        '--brokers',
        `localhost:${tlsPort}`,
        '--kafka-ca',
        caFile,
        '--redis',
        `redis://alice:r3dis-secret@127.0.0.1:${aclPort}`,
        '--topic',
        unique('tls-dash'),
        '--group',
        unique('g'),
        '--rate',
        '0',
        '--log-file',
        path.join(tmp, 'dashboard.log'),
      ],
      120,
      40,
    );
    try {
      await session.waitForScreen(
        'the dashboard connected over TLS',
        (s) => /Kafka \S+ connected/.test(s) && /partitions \[0,1,2\]/.test(s),
        60_000,
      );
      // the health probe runs every 2 s: watch the status bar through three of its rounds
      const since = Date.now();
      const screen = await session.waitForScreen(
        'six seconds of status bar',
        (s) => /⚠ Kafka/.test(s) || Date.now() - since > 6_000,
        10_000,
      );
      expect(screen).not.toMatch(/⚠ Kafka/);
      expect(screen).toMatch(/Kafka \S+ connected/);
      session.keys('q');
      expect(await session.exitCode()).toBe(0);
    } finally {
      session.kill();
    }
  });

  it('without the CA the certificate is refused: a clear error, exit 1, no stack trace', async () => {
    const result = await runCli(
      ['produce', '--brokers', `localhost:${tlsPort}`, '--kafka-tls', '--topic', unique('tls')],
      process.env,
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*(certificate|does not answer)/m);
    noTrace(result.stderr);
  });
});

describe('Redis ACL user', () => {
  it('the right user and password work', async () => {
    const result = await runCli(['seed', '--redis', `redis://alice:r3dis-secret@127.0.0.1:${aclPort}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/24 sample users/);
  });

  it('a wrong password: a clear error, exit 1, no stack trace, no secret', async () => {
    const result = await runCli(['users', '--redis', `redis://alice:wrong-pass@127.0.0.1:${aclPort}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*WRONGPASS/m);
    expect(result.stderr).not.toContain('wrong-pass');
    noTrace(result.stderr);
  });
});
