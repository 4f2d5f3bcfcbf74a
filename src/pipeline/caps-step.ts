/**
 * The caps step, between planning and sending: each send of a channel the user caps (`cap.<channel>`)
 * is checked and counted by the {@link CapCounter}, in chunk order, in one call for the chunk. A send
 * over the cap is settled `skipped` `throttled` (the trace says `3 of 3 in the last hour`) and leaves
 * the chunk's jobs. Required sends are never capped and never counted; duplicates (the dedupe ledger)
 * and deferred sends never reach this step (a deferred send is checked at its due time, when it is sent).
 * Counting is idempotent per (event, channel): a redelivered, replayed or resent event that was
 * counted before is allowed again and not counted twice.
 */
import { durationWords } from '../domain/duration.js';
import type { CapCheck, CapCounter, CapVerdict, UserRecord } from './ports.js';
import { errorText, FatalConsumerError, PermanentError } from './errors.js';
import type { Plan, SendJob } from './chunk.js';
import type { Telemetry } from '../telemetry/telemetry.js';

/** What the step needs from the processor. */
export interface CapStepContext {
  caps: CapCounter | undefined;
  telemetry: Telemetry;
  now: () => number;
  /** Runs a Redis step until it works (the processor's `untilDone`): transient failures are waited out. */
  untilDone: <T>(what: string, action: () => Promise<T>) => Promise<T>;
}

/** `3 of 3 in the last hour`: what a throttled send's trace says. */
export const throttledDetail = (count: number, limit: number, windowMs: number): string =>
  `${count} of ${limit} in ${durationWords(windowMs)}`;

/** The capped jobs of a plan, in order, and their checks (the same places). */
export function capChecks(
  jobs: readonly SendJob[],
  users: ReadonlyMap<string, UserRecord | undefined>,
): { jobs: SendJob[]; checks: CapCheck[] } {
  const capped: SendJob[] = [];
  const checks: CapCheck[] = [];
  for (const job of jobs) {
    if (job.rule === 'required') continue;
    const cap = users.get(job.userId)?.rules?.caps[job.channel];
    if (!cap) continue;
    capped.push(job);
    checks.push({
      userId: job.userId,
      channel: job.channel,
      eventId: job.eventId,
      limit: cap.limit,
      windowMs: cap.windowMs,
    });
  }
  return { jobs: capped, checks };
}

/**
 * Checks the plan's capped jobs: the throttled ones are settled and leave `plan.jobs`; those of a user
 * whose cap key Redis refuses for good (another program's value) fail as `store-error` (dead letters),
 * the rest of the chunk goes on. Nothing is throttled by an error.
 */
export async function applyCaps(
  plan: Plan,
  users: ReadonlyMap<string, UserRecord | undefined>,
  context: CapStepContext,
): Promise<void> {
  const capped = capChecks(plan.jobs, users);
  if (capped.jobs.length === 0) return;
  const { caps } = context;
  if (!caps) throw new FatalConsumerError('a send is capped (cap.<channel>), but this consumer has no cap counter');
  const what = 'checking frequency caps in Redis';
  const now = context.now();
  const { checks } = capped;
  // Per capped job (the same places as `checks`): its verdict, or the error of its user's refused keys.
  const verdicts: (CapVerdict | undefined)[] = new Array(checks.length);
  const refused: (PermanentError | undefined)[] = new Array(checks.length);
  try {
    const answers = await context.untilDone(what, () => caps.check(checks, now));
    for (let i = 0; i < answers.length; i++) verdicts[i] = answers[i];
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    // Refused for good: each user alone, so only the users whose keys Redis refuses fail. Checking again
    // is safe: a send counted by the first call is allowed again, not counted twice.
    const byUser = new Map<string, number[]>();
    checks.forEach((c, i) => {
      let mine = byUser.get(c.userId);
      if (!mine) byUser.set(c.userId, (mine = []));
      mine.push(i);
    });
    for (const [userId, mine] of byUser) {
      try {
        const answers = await context.untilDone(what, () =>
          caps.check(
            mine.map((i) => checks[i]!),
            now,
          ),
        );
        mine.forEach((i, k) => (verdicts[i] = answers[k]));
      } catch (inner) {
        if (!(inner instanceof PermanentError)) throw inner;
        const detail = `Redis refused the caps of user ${userId}: ${errorText(inner.cause)}`;
        context.telemetry.publish({ kind: 'error', source: 'redis', message: detail, at: context.now() });
        const failure = new PermanentError(detail, inner.cause);
        for (const i of mine) refused[i] = failure;
      }
    }
  }
  // The capped jobs are in plan order: one pass over the plan, one pointer into them.
  let kept = 0;
  let c = 0;
  for (const job of plan.jobs) {
    if (capped.jobs[c] !== job) {
      plan.jobs[kept++] = job;
      continue;
    }
    const i = c++;
    const failure = refused[i];
    if (failure) {
      plan.finish(job, { ok: false, error: failure, attempts: 0 });
      continue;
    }
    const verdict = verdicts[i];
    if (verdict && !verdict.allowed) {
      const { limit, windowMs } = checks[i]!;
      const o = plan.settle(job.entry, job.channel, 'skipped', 'throttled', 0, job.address, job.text, job.rule);
      o.detail = throttledDetail(verdict.count, limit, windowMs);
      continue;
    }
    plan.jobs[kept++] = job;
  }
  plan.jobs.length = kept;
}
