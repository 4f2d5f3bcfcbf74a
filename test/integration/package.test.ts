/**
 * What a user installs: the packed package, installed globally, runs, and its dashboard's Ink carries
 * the patch that keeps memory flat (patches/ must ship with it; postinstall applies it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { inkPatchProblem } from '../../src/cli/dashboard/ink-patch.js';
import { execReports, repoRoot } from '../support/cli.js';
import { consumeArgs, createTopic, unique } from '../support/pipeline.js';

const run = promisify(execFile);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'etui-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('installs with npm install -g, runs, and its Ink keeps memory flat over 12,000 frames of new text', async () => {
    await run('npm', ['pack', '--pack-destination', scratch], { cwd: repoRoot, maxBuffer: 16 << 20 });
    const tarball = path.join(
      scratch,
      readdirSync(scratch).find((f) => f.endsWith('.tgz'))!,
    );
    const prefix = path.join(scratch, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: scratch,
      maxBuffer: 16 << 20,
    });
    const installed = path.join(prefix, 'lib', 'node_modules', 'eventstream-tui');

    const command = path.join(prefix, 'bin', 'eventstream-tui');
    const version = await run(command, ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    // The installed command (npm's link to a `#!/usr/bin/env node` script) runs the consumer in a node
    // started with the larger young generation (src/cli/exec.ts).
    const topic = unique('pkg');
    await createTopic(topic, 1);
    const consumed = await run(command, consumeArgs(topic, unique('pkg-group'), ['--drain', '--output', 'none']), {
      env: { ...process.env, CI: 'true', EVENTSTREAM_DEBUG_EXEC: '1' },
    });
    expect(execReports(consumed.stderr).map((r) => r.execArgv)).toEqual([[], ['--max-semi-space-size=64']]);
    expect(readFileSync(command, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');

    expect(inkPatchProblem(path.join(installed, 'node_modules', 'ink', 'build', 'index.js'))).toBeUndefined();
    const probe = await run(
      process.execPath,
      ['--expose-gc', path.join(repoRoot, 'test', 'support', 'ink-memory-probe.mjs'), installed],
      { env: { ...process.env, NODE_ENV: 'production' } },
    );
    const { growthMb, lastFrameDrawn } = JSON.parse(probe.stdout) as { growthMb: number; lastFrameDrawn: boolean };
    process.stdout.write(`[package] installed Ink: live heap +${growthMb.toFixed(2)} MB over 12,000 frames\n`);
    expect(lastFrameDrawn).toBe(true);
    // Unpatched, the same frames keep ≈ 9 MB (measured with the patch reversed).
    expect(growthMb).toBeLessThan(2);
  }, 300_000);

  it('an Ink without the patch is named, with the way to fix it', () => {
    const unpatched = path.join(scratch, 'ink-unpatched', 'node_modules', 'ink', 'build', 'index.js');
    expect(inkPatchProblem(unpatched)).toMatch(
      /is not patched \(measure-text\.js, wrap-text\.js, output\.js\).*\n {2}Fix: run `npx patch-package`/,
    );
  });
});
