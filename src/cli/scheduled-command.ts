/**
 * `scheduled list`: the sends deferred by quiet hours that wait in the schedule (Redis,
 * `schedule:{schedule}:due` and `schedule:{schedule}:sends`), one JSON line each, soonest due first.
 * The schedule is shared by every consumer group of the topic: no --group.
 */
import { Command, Option } from 'commander';
import { Pipeline, pipelineSettings } from '../app/runtime.js';
import { resolveConfig, type ConfigFlags } from '../config/config.js';
import { isValidZone, localLabel } from '../domain/quiet-hours.js';
import { clockNow } from '../pipeline/clock.js';
import type { ScheduledSend } from '../pipeline/ports.js';
import { safeJson } from '../text/safe-json.js';
import { onStdoutClosed } from './closed-output.js';
import { guarded } from './guarded.js';
import { positiveInt, redisOption, redisPasswordFileOption } from './options.js';
import { headlessLogger } from './pipeline-commands.js';

interface ListFlags extends ConfigFlags {
  user?: string;
  limit?: number;
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** One pending send as `scheduled list` prints it (docs/contracts.md, "scheduled list"). */
export function scheduledLine(entry: ScheduledSend, now: number): Record<string, unknown> {
  // The zone the user had when the send was deferred; an entry another program wrote may name none.
  const zone = typeof entry.zone === 'string' && isValidZone(entry.zone) ? entry.zone : 'UTC';
  return {
    kind: 'scheduled',
    eventId: entry.eventId,
    type: entry.type,
    userId: entry.userId,
    channel: entry.channel,
    dueAt: iso(entry.dueAt),
    dueLocal: localLabel(entry.dueAt, zone, now),
    reason: entry.reason,
    deferredAt: iso(entry.deferredAt),
  };
}

/** `3 scheduled sends`, or `2 of 7 scheduled sends (user user-04, soonest 2)` when filtered. */
function countLine(listed: number, pending: number, flags: ListFlags): string {
  const sends = (n: number): string => `${n} scheduled send${n === 1 ? '' : 's'}`;
  const filter = [
    flags.user !== undefined ? `user ${flags.user}` : '',
    flags.limit !== undefined ? `soonest ${flags.limit}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (!filter || (flags.user === undefined && listed === pending)) return sends(listed);
  return `${listed} of ${sends(pending)} (${filter})`;
}

function listCommand(): Command {
  const cmd = new Command('list')
    .description(
      'print the pending deferred sends, one JSON line each (eventId, type, userId, channel, dueAt UTC, dueLocal in the user’s zone, reason, deferredAt), soonest due first; the count on stderr; exit 0',
    )
    .addOption(redisOption())
    .addOption(redisPasswordFileOption())
    .addOption(new Option('--user <id>', "only this user's sends"))
    .addOption(new Option('--limit <n>', 'only the n due soonest').argParser(positiveInt('--limit')));
  cmd.action(async (flags: ListFlags) => {
    await guarded(async () => {
      const pipeline = await Pipeline.create(pipelineSettings(resolveConfig(flags), {}), headlessLogger(), {
        kafka: false,
        redis: true,
      });
      // `scheduled list | head -1`: the reader went away; exit quietly.
      let closed = false;
      onStdoutClosed(() => void (closed = true));
      try {
        const [entries, pending] = await Promise.all([
          pipeline.schedule.list({ userId: flags.user, limit: flags.limit }),
          pipeline.schedule.pending(),
        ]);
        const now = clockNow();
        const out = entries.map((e) => `${safeJson(scheduledLine(e, now))}\n`).join('');
        if (out) process.stdout.write(out);
        if (!closed) process.stderr.write(`${countLine(entries.length, pending, flags)}\n`);
        return 0;
      } finally {
        await pipeline.stop();
      }
    });
  });
  return cmd;
}

export function scheduledCommand(): Command {
  return new Command('scheduled')
    .description('the schedule of sends deferred by quiet hours (shared by every consumer group): list them')
    .addCommand(listCommand());
}
