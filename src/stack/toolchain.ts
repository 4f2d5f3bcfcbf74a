/** Finding and checking the external programs the local stack needs: java, mvn, redis-server. */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { javaHome, processEnvironment, searchPath, type Environment } from '../config/environment.js';
import { StackError } from './errors.js';

export const MIN_JAVA = 17;

/** The first executable named `name` on PATH, or undefined. */
export function findOnPath(name: string, env: Environment = processEnvironment()): string | undefined {
  for (const dir of searchPath(env)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` or `java version "1.8.0_292"`. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

function run(file: string, args: string[], env: Environment): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The java to run Kafka with: $JAVA_HOME/bin/java, else java on PATH; version 17 or newer. */
export async function locateJava(env: Environment = processEnvironment()): Promise<{ path: string; major: number }> {
  const home = javaHome(env);
  const fromHome = home ? path.join(home, 'bin', 'java') : undefined;
  let javaPath: string | undefined;
  if (fromHome) {
    try {
      accessSync(fromHome, constants.X_OK);
      javaPath = fromHome;
    } catch {
      javaPath = undefined;
    }
  }
  javaPath ??= findOnPath('java', env);
  if (!javaPath) {
    throw new StackError(
      'JAVA_MISSING',
      'no `java` found (needed to run the local Apache Kafka broker)',
      'Install Java 17 or newer (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`), or point --brokers at a Kafka you already run.',
    );
  }
  const { output } = await run(javaPath, ['-version'], env);
  const major = parseJavaMajor(output);
  if (major === undefined || major < MIN_JAVA) {
    throw new StackError(
      'JAVA_TOO_OLD',
      `${javaPath} is Java ${major ?? '(unknown version)'}; the local Apache Kafka broker needs Java ${MIN_JAVA} or newer`,
      'Install Java 17 or newer and put it first on PATH (or set JAVA_HOME), or point --brokers at a Kafka you already run.',
    );
  }
  return { path: javaPath, major };
}

export function locateMaven(env: Environment = processEnvironment()): string {
  const mvn = findOnPath('mvn', env);
  if (!mvn) {
    throw new StackError(
      'MAVEN_MISSING',
      'no `mvn` found, and the Apache Kafka jars are not cached yet',
      'Install Apache Maven once (Debian/Ubuntu: `apt-get install maven`) so the broker can be resolved from Maven Central; later runs need no network. Or point --brokers at a Kafka you already run.',
    );
  }
  return mvn;
}

export function locateRedisServer(env: Environment = processEnvironment()): string {
  const redis = findOnPath('redis-server', env);
  if (!redis) {
    throw new StackError(
      'REDIS_SERVER_MISSING',
      'no Redis answers and no `redis-server` is installed to start one',
      'Install Redis (Debian/Ubuntu: `apt-get install redis-server`), or point --redis at a Redis you already run.',
    );
  }
  return redis;
}

export { run as runProgram };
