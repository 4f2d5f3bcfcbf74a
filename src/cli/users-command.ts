/**
 * `seed` and `users`: writing and listing the users in Redis. Both are sized for a production Redis
 * (millions of users): `users` streams the set in scan order, a page at a time, in bounded memory;
 * `seed --users <n>` writes generated users in pipelined batches.
 */
import { Command } from 'commander';
import type { RedisStore, UserRead } from '../adapters/redis/store.js';
import { Pipeline, pipelineSettings } from '../app/runtime.js';
import { resolveConfig, type ConfigFlags } from '../config/config.js';
import { addressOf, type ChannelDefinition } from '../domain/channels/channel.js';
import { MAX_GENERATED_USERS, sampleUsers } from '../domain/sample-users.js';
import { safeJson } from '../text/safe-json.js';
import { sanitize } from '../text/sanitize.js';
import { cutToWidth } from '../text/width.js';
import { cell } from '../ui/format.js';
import { onStdoutClosed } from './closed-output.js';
import { EXIT } from './exit-codes.js';
import { guarded, UsageError } from './guarded.js';
import { positiveInt, redisOption, redisPasswordFileOption } from './options.js';
import { headlessLogger } from './pipeline-commands.js';

/** Ids asked of Redis per SSCAN call, and users read per round trip, by `users`. */
export const USERS_PAGE = 1_000;
const FIRST_PAGE = 100;

const redisOnly = { kafka: false, redis: true } as const;

export function seedCommand(): Command {
  const cmd = new Command('seed')
    .description('write the sample users and preferences where absent (a changed preference is kept)')
    .addOption(redisOption())
    .addOption(redisPasswordFileOption())
    .option('--reset', 'rewrite every sample user and preference')
    .option(
      '--users <n>',
      `also write n generated users gen-0000001.. (rewritten whole, preferences included; at most ${MAX_GENERATED_USERS.toLocaleString('en-US')}): a production-sized Redis to try things on`,
      positiveInt('--users'),
    );
  cmd.action(async (flags: ConfigFlags & { reset?: boolean; users?: number }) => {
    await guarded(async () => {
      if (flags.users !== undefined && flags.users > MAX_GENERATED_USERS) {
        throw new UsageError(`--users takes at most ${MAX_GENERATED_USERS} (got ${flags.users})`);
      }
      const pipeline = await Pipeline.create(pipelineSettings(resolveConfig(flags), {}), headlessLogger(), redisOnly);
      let stopped = false;
      const stop = (): void => void (stopped = true);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const users = sampleUsers(pipeline.catalog.channels);
        const { written, kept } = await pipeline.store.seed(users, Boolean(flags.reset));
        process.stdout.write(
          `${users.length} sample users: ${written} fields written, ${kept} kept as they were${flags.reset ? ' (reset)' : ''}\n`,
        );
        if (flags.users === undefined) return 0;
        const total = flags.users;
        const started = Date.now();
        let lastSaid = started;
        const done = await pipeline.store.seedGenerated(
          total,
          (n) => {
            if (Date.now() - lastSaid < 1_000 || n === total) return;
            lastSaid = Date.now();
            process.stderr.write(
              `seed: ${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} users written\n`,
            );
          },
          () => stopped,
        );
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `${done} generated users written (gen-…) in ${seconds.toFixed(1)} s${done < total ? `; stopped by a signal before the other ${total - done}` : ''}\n`,
        );
        return done < total ? EXIT.failure : 0;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await pipeline.stop();
      }
    });
  });
  return cmd;
}

/** Column widths of the table: fixed, so that a row is printed as soon as it is read. */
const ID_WIDTH = 20;
const NAME_WIDTH = 24;

/** The id: whole (it is what a user types next), padded to its column. */
function pad(text: string, width: number): string {
  const { width: used } = cutToWidth(text, width + 1);
  return used > width ? text : text + ' '.repeat(width - used);
}

function tableRow(cells: string[], widths: number[]): string {
  return `${cells
    .map((c, i) => (i === 0 ? pad(c, widths[0]!) : cell(c, widths[i]!)))
    .join('  ')
    .trimEnd()}\n`;
}

/** Writes `text`, waiting while the reader is behind: memory stays bounded whatever the set's size. */
function write(text: string): Promise<void> {
  const out = process.stdout;
  if (out.destroyed || out.write(text)) return Promise.resolve();
  // Drained, or gone (EPIPE: the reader went away; closed-output.ts says stop).
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}

export function usersCommand(): Command {
  const cmd = new Command('users')
    .description(
      'list the users with their channel preferences, as Redis returns them (scan order, not sorted), a page at a time',
    )
    .addOption(redisOption())
    .addOption(redisPasswordFileOption())
    .option('--json', 'print JSON lines: one user a line');
  cmd.action(async (flags: ConfigFlags & { json?: boolean }) => {
    await guarded(async () => {
      const pipeline = await Pipeline.create(pipelineSettings(resolveConfig(flags), {}), headlessLogger(), redisOnly);
      // `users | head -5`: the reader went away; stop reading Redis and exit quietly.
      let closed = false;
      onStdoutClosed(() => void (closed = true));
      try {
        const { listed, broken } = await streamUsers(pipeline.store, pipeline.catalog.channels, {
          json: Boolean(flags.json),
          closed: () => closed,
        });
        if (closed) return 0;
        // The count on stderr: stdout is the rows alone (after the header), `users | wc -l` counts them plus one.
        if (!flags.json) {
          process.stderr.write(
            `${listed} users (* = no address for that channel: skipped with no-address)${broken > 0 ? `; ${broken} not readable, named above` : ''}\n`,
          );
        }
        // A user that could not be read is said on stderr as it is met; the exit code tells a script.
        return broken > 0 ? EXIT.failure : 0;
      } finally {
        await pipeline.stop();
      }
    });
  });
  return cmd;
}

/** Lists the users page by page (SSCAN, then one round trip for the page's hashes); a broken user is named on stderr and skipped. */
async function streamUsers(
  store: RedisStore,
  channels: readonly ChannelDefinition[],
  options: { json: boolean; closed: () => boolean },
): Promise<{ listed: number; broken: number }> {
  const widths = [ID_WIDTH, NAME_WIDTH, ...channels.map((c) => Math.max(c.name.length, 4))];
  // The header once the first page is read: a `users` key that is not a set prints none, only the error.
  let header = options.json ? '' : tableRow(['USER', 'NAME', ...channels.map((c) => c.name.toUpperCase())], widths);
  let listed = 0;
  let broken = 0;
  let cursor = '0';
  do {
    // The first page small: `users | head` prints at once; then full pages.
    const page = await store.scanUserIds(cursor, cursor === '0' ? FIRST_PAGE : USERS_PAGE);
    cursor = page.cursor;
    const reads = await store.readUsers(page.ids);
    let out = header;
    header = '';
    for (const read of reads) {
      if (read.broken) {
        broken++;
        process.stderr.write(`warning: user ${sanitize(read.id)} skipped: ${sanitize(read.broken.message)}\n`);
        continue;
      }
      if (!read.record) continue; // in the set, never written (or deleted since): nothing to list
      listed++;
      // The contract's two keys (docs/contracts.md): the record's parsed rules are the consumer's, not output.
      out += options.json
        ? `${safeJson({ profile: read.record.profile, prefs: read.record.prefs })}\n`
        : userRow(read, channels, widths);
    }
    if (out) await write(out);
  } while (cursor !== '0' && !options.closed());
  return { listed, broken };
}

function userRow(read: UserRead, channels: readonly ChannelDefinition[], widths: number[]): string {
  const { profile, prefs } = read.record!;
  return tableRow(
    [
      sanitize(profile.id),
      profile.name ?? '', // cell() sanitizes what shows of it
      ...channels.map(
        (c) => `${prefs[c.name] === 'on' ? 'on' : 'off'}${addressOf(c, profile) === undefined ? '*' : ''}`,
      ),
    ],
    widths,
  );
}
