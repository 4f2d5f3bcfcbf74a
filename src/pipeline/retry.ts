/** Bounded retries with exponential backoff and jitter. */
import { PermanentError, StoppedError } from './errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SEND_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 50, maxDelayMs: 1000 };

export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** The longest a server's `Retry-After` is honoured between two tries: past it, the next try goes anyway. */
export const MAX_RETRY_AFTER_MS = 10_000;

/** The wait before the next try: the backoff, or longer when the server asked for it (bounded). */
export function retryDelay(policy: RetryPolicy, attempt: number, error: unknown): number {
  const backoff = backoffDelay(policy, attempt);
  const wanted = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof wanted === 'number' && wanted > backoff ? Math.min(wanted, MAX_RETRY_AFTER_MS) : backoff;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `action` up to `policy.attempts` times. A stop is never a failure: a {@link StoppedError}
 * from the action, or `keepGoing()` turning false between attempts, ends the retries by throwing
 * a StoppedError, so the caller abandons its work instead of reporting it failed. A
 * {@link PermanentError} ends the retries at once.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  action: (attempt: number) => Promise<T>,
  keepGoing: () => boolean = () => true,
): Promise<{ ok: true; value: T; attempts: number } | { ok: false; error: unknown; attempts: number }> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      return { ok: true, value: await action(attempt), attempts: attempt };
    } catch (error) {
      if (error instanceof StoppedError) throw error;
      // Retrying cannot mend it: no more attempts.
      if (error instanceof PermanentError) return { ok: false, error, attempts: attempt };
      lastError = error;
      if (attempt < policy.attempts) {
        await sleep(retryDelay(policy, attempt, error));
        if (!keepGoing()) throw new StoppedError('stopped between retries');
      }
    }
  }
  return { ok: false, error: lastError, attempts: policy.attempts };
}
