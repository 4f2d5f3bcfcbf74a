/** Where the local stack keeps its jars, data, logs and the record of what it started. */
import os from 'node:os';
import path from 'node:path';
import { processEnvironment, stackHomeSettings, type Environment } from '../config/environment.js';

/** Apache Kafka 4.4.0: the newest release, checked against kafkajs 2.2.4 (docs/stack.md, "Why Kafka 4.4"). */
export const KAFKA_VERSION = '4.4.0';
export const MAVEN_DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

export function stackHome(env: Environment = processEnvironment()): string {
  const { home, cacheHome } = stackHomeSettings(env);
  if (home) return path.resolve(home);
  const cache = cacheHome ?? path.join(os.homedir(), '.cache');
  return path.join(cache, 'eventstream-tui');
}

export interface StackPaths {
  home: string;
  state: string;
  kafkaDist: string;
  kafkaLibs: string;
  kafkaLibsComplete: string;
  kafka(port: number): { dir: string; data: string; config: string; log4j: string; log: string };
  /** `config`: the password for redis-server, in a file only the user can read (not on its command line). */
  redis(port: number): { dir: string; data: string; log: string; config: string };
}

export function stackPaths(home: string = stackHome()): StackPaths {
  const kafkaDist = path.join(home, `kafka-${KAFKA_VERSION}`);
  return {
    home,
    state: path.join(home, 'stack.json'),
    kafkaDist,
    kafkaLibs: path.join(kafkaDist, 'libs'),
    kafkaLibsComplete: path.join(kafkaDist, 'libs.complete'),
    kafka: (port) => {
      const dir = path.join(home, `kafka-broker-${port}`);
      return {
        dir,
        data: path.join(dir, 'data'),
        config: path.join(dir, 'server.properties'),
        log4j: path.join(dir, 'log4j2.properties'),
        log: path.join(dir, 'kafka.log'),
      };
    },
    redis: (port) => {
      const dir = path.join(home, `redis-${port}`);
      return {
        dir,
        data: path.join(dir, 'data'),
        log: path.join(dir, 'redis.log'),
        config: path.join(dir, 'redis.conf'),
      };
    },
  };
}

/**
 * The paths of a stack home of its own (its record of what it started, data, logs) that shares the
 * Kafka jars already resolved for the user's stack, so nothing is fetched twice (tests, benches).
 */
export function stackPathsSharingJars(home: string): StackPaths {
  const shared = stackPaths();
  return {
    ...stackPaths(home),
    kafkaDist: shared.kafkaDist,
    kafkaLibs: shared.kafkaLibs,
    kafkaLibsComplete: shared.kafkaLibsComplete,
  };
}
