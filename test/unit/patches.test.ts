import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../support/cli.js';

// patch-package names a patch `<package>+<version>.patch` (a scope's slash as `+`) and fails the whole
// `postinstall`, so the install, when the installed version is another: a patched dependency is pinned
// to that exact version in package.json (no range a registry install could move past it).
const json = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;
const manifest = json('package.json') as { dependencies: Record<string, string> };
const lock = json('package-lock.json') as { packages: Record<string, { version?: string }> };
const patches = readdirSync(path.join(repoRoot, 'patches')).filter((f) => f.endsWith('.patch'));

function parsePatchName(file: string): { name: string; version: string } {
  const parts = file.slice(0, -'.patch'.length).split('+');
  const version = parts.pop()!;
  return { name: parts.join('/'), version };
}

describe('patched dependencies', () => {
  it('there are patches (ink, kafkajs)', () => {
    expect(patches.map((f) => parsePatchName(f).name).sort()).toEqual(['ink', 'kafkajs']);
  });

  for (const file of patches) {
    const { name, version } = parsePatchName(file);
    it(`${name} is pinned to ${version}, the version patches/${file} applies to`, () => {
      expect(manifest.dependencies[name], `package.json "${name}" must be exactly "${version}"`).toBe(version);
      expect(lock.packages[`node_modules/${name}`]?.version, `package-lock.json's ${name}`).toBe(version);
      const installed = json(`node_modules/${name}/package.json`) as { version: string };
      expect(installed.version, `the installed ${name}`).toBe(version);
    });
  }
});

describe('the kafkajs patch', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never hands setTimeout a negative delay (Node 23+ prints a TimeoutNegativeWarning on stderr for it)', () => {
    const require = createRequire(path.join(repoRoot, 'package.json'));
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => {
      scheduleCheckPendingRequests(): void;
      throttleCheckTimeoutId: NodeJS.Timeout | null;
    };
    const noop = () => undefined;
    const logger = { debug: noop, info: noop, warn: noop, error: noop };
    const queue = new RequestQueue({
      maxInFlightRequests: 1,
      requestTimeout: 30_000,
      clientId: 't',
      broker: 'b',
      logger,
    });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    queue.scheduleCheckPendingRequests(); // not throttled, nothing pending: the case that warned
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(setTimeoutSpy.mock.calls[0]![1]).toBeGreaterThanOrEqual(1);
    clearTimeout(queue.throttleCheckTimeoutId!);
  });
});
