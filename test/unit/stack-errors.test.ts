/**
 * Each bad condition of `stack up` gives one clear message and a non-zero exit.
 * These run the real CLI (or the real stack code) with a doctored PATH or a
 * squatter on the port, and nothing else.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackPaths } from '../../src/stack/paths.js';
import { isAlive } from '../../src/stack/processes.js';
import { stackUp } from '../../src/stack/stack.js';
import { readState } from '../../src/stack/state.js';
import { findOnPath } from '../../src/stack/toolchain.js';
import { freePort, runCli } from '../support/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'etui-stack-errors-'));

function binDir(name: string, programs: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [program, target] of Object.entries(programs)) {
    const file = path.join(dir, program);
    if (target.startsWith('#!')) {
      writeFileSync(file, target);
      chmodSync(file, 0o755);
    } else {
      symlinkSync(target, file);
    }
  }
  return dir;
}

const isolated = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  HOME: process.env.HOME,
  EVENTSTREAM_HOME: path.join(tmp, `home-${Math.random().toString(36).slice(2)}`),
  ...extra,
});

describe('stack up: each bad condition gets one clear message and a non-zero exit', () => {
  let squatter: net.Server;
  let squatterPort: number;

  beforeAll(async () => {
    squatter = net.createServer((socket) => {
      socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    });
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    squatterPort = (squatter.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    squatter.close();
  });

  it('no java: says to install Java 17', async () => {
    const port = await freePort();
    const result = await runCli(
      ['stack', 'up', 'kafka', '--brokers', `localhost:${port}`],
      isolated({ PATH: binDir('nojava', {}) }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no `java` found/);
    expect(result.stderr).toMatch(/Java 17 or newer/);
    expect(result.stderr).not.toMatch(/ {4}at /); // no stack trace
  });

  it('java older than 17: names the version it found', async () => {
    const port = await freePort();
    const bin = binDir('oldjava', { java: '#!/bin/sh\necho \'java version "1.8.0_292"\' >&2\n' });
    const result = await runCli(['stack', 'up', 'kafka', '--brokers', `localhost:${port}`], isolated({ PATH: bin }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is Java 8; the local Apache Kafka broker needs Java 17 or newer/);
  });

  it('no mvn and no cached jars: says to install Maven once', async () => {
    const port = await freePort();
    const java = findOnPath('java');
    expect(java, "this test needs the machine's java").toBeDefined();
    const bin = binDir('nomvn', { java: java! });
    const result = await runCli(['stack', 'up', 'kafka', '--brokers', `localhost:${port}`], isolated({ PATH: bin }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no `mvn` found, and the Apache Kafka jars are not cached yet/);
    expect(result.stderr).toMatch(/apt-get install maven/);
  });

  it("Maven cannot reach its repository: says so, with Maven's own line", async () => {
    const port = await freePort();
    const settings = path.join(tmp, 'dead-mirror.xml');
    writeFileSync(
      settings,
      '<settings><mirrors><mirror><id>dead</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:1/maven2</url></mirror></mirrors></settings>',
    );
    const home = path.join(tmp, 'home-maven');
    const error = await stackUp(
      {
        config: { brokers: [`localhost:${port}`], redisUrl: 'redis://127.0.0.1:1' },
        paths: stackPaths(home),
        mavenArgs: ['-s', settings, `-Dmaven.repo.local=${path.join(tmp, 'empty-m2')}`],
      },
      ['kafka'],
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MAVEN_UNREACHABLE' });
    expect((error as { describe(): string }).describe()).toMatch(/Connection refused|transfer/);
  });

  it('port held by something that is not Kafka: refuses and names the port', async () => {
    const result = await runCli(
      ['stack', 'up', 'kafka', '--brokers', `localhost:${squatterPort}`],
      isolated({ PATH: process.env.PATH }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`localhost:${squatterPort} is held by something that is not Kafka`));
  });

  it('port held by something that is not Redis: refuses and names the port', async () => {
    const result = await runCli(
      ['stack', 'up', 'redis', '--redis', `redis://127.0.0.1:${squatterPort}`],
      isolated({ PATH: process.env.PATH }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`127.0.0.1:${squatterPort} is held by something that is not Redis`));
  });

  it('no redis-server: says to install it or point --redis elsewhere', async () => {
    const port = await freePort();
    const result = await runCli(
      ['stack', 'up', 'redis', '--redis', `redis://127.0.0.1:${port}`],
      isolated({ PATH: binDir('noredis', {}) }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no Redis answers and no `redis-server` is installed/);
    expect(result.stderr).toMatch(/--redis/);
  });

  /**
   * Runs `stack up kafka` with the jars and storage faked as ready, and a "java" that reports 17 and,
   * started as the broker, runs `brokerScript`.
   */
  async function upWithFakeBroker(name: string, brokerScript: string, readyTimeoutMs: number) {
    const port = await freePort();
    const paths = stackPaths(path.join(tmp, `home-${name}`));
    const bin = binDir(name, {
      java: `#!/bin/sh\ncase "$*" in *-version*) echo 'openjdk version "17.0.9"' >&2; exit 0;; esac\n${brokerScript}\n`,
    });
    mkdirSync(paths.kafkaLibs, { recursive: true });
    writeFileSync(paths.kafkaLibsComplete, 'test\n');
    mkdirSync(paths.kafka(port).data, { recursive: true });
    writeFileSync(path.join(paths.kafka(port).data, 'meta.properties'), 'node.id=1\n');
    const error = await stackUp(
      {
        config: { brokers: [`localhost:${port}`], redisUrl: 'redis://127.0.0.1:1' },
        paths,
        env: { PATH: bin },
        readyTimeoutMs,
      },
      ['kafka'],
    ).catch((e: unknown) => e);
    return { error: error as { code?: string; describe(): string }, paths };
  }

  it('a broker that starts but never becomes ready: shows the tail of its log and leaves nothing running', async () => {
    const { error, paths } = await upWithFakeBroker(
      'hangingjava',
      'echo "ERROR fake broker cannot bind (kafka.Kafka)"\nexec sleep 60',
      1500,
    );
    expect(error).toMatchObject({ code: 'KAFKA_NOT_READY' });
    const text = error.describe();
    expect(text).toMatch(/did not become ready within 1.5 s/);
    expect(text).toMatch(/ERROR fake broker cannot bind/);
    expect(readState(paths.state).started).toEqual([]);
  });

  it('a broker that exits while starting: says so with its exit code', async () => {
    const { error } = await upWithFakeBroker('exitingjava', 'echo "FATAL log dir is not writable"\nexit 3', 10_000);
    const text = error.describe();
    expect(text).toMatch(/exited with code 3 while starting/);
    expect(text).toMatch(/FATAL log dir is not writable/);
  });

  it('a bad flag prints usage and exits 2', async () => {
    const result = await runCli(['stack', 'up', '--brokers', 'no-port-here']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not host:port/);
    expect(result.stderr).toMatch(/Usage: eventstream-tui stack up/);
  });

  it('isAlive is false for a pid that is not running', () => {
    expect(isAlive(2 ** 22 + 17)).toBe(false);
  });
});
