/**
 * Digests (`digest.<type> <window>`), as two steps of the processor, kept apart from it:
 * - {@link DigestStep.join}, in `process`: a chunk's sends and deferrals of a digestible type, for a user
 *   who digests it, join the user's open digest of that type instead (one {@link DigestStore.join} call
 *   per chunk), and each (digest, channel) is written to the schedule, due at the window's end (added
 *   only where absent: a redelivered member writes the same entry again, which heals a crash between the
 *   join and that write). Each (event, channel) is settled `digested`.
 * - {@link DigestStep.prepareDue} and {@link DueDigests.finish}, in `processDue`: a digest's entry at its
 *   due time, planned again like any deferred send (an opt-out since skips it, quiet hours defer it
 *   again), is rendered from its members and sent through the provider's idempotency record under the
 *   digest id; then its members are marked in the dedupe ledger, so a member redelivered after the send
 *   is a `duplicate`.
 */
import type { Catalog } from '../domain/catalog.js';
import { fit } from '../domain/channels/channel.js';
import { DIGEST_LISTED, type Payload } from '../domain/event-type.js';
import { localLabel } from '../domain/quiet-hours.js';
import type { RuleCode } from '../domain/rules.js';
import { FatalConsumerError } from './errors.js';
import type { ChunkContext, Plan, Received } from './chunk.js';
import type {
  BatchLookup,
  DigestJoin,
  DigestMember,
  DigestStore,
  LedgerEvent,
  LedgerMark,
  PipelineStore,
  Schedule,
  ScheduledSend,
} from './ports.js';

export interface DigestStepOptions {
  digests: DigestStore;
  schedule: Schedule | undefined;
  store: PipelineStore;
  catalog: Catalog;
  now: () => number;
  /** Runs a Redis step until it works (the processor's `untilDone`). */
  run: <T>(what: string, action: () => Promise<T>, chunk: ChunkContext) => Promise<T>;
}

/** A channel of an event that would have been sent or deferred, now in a digest. */
interface Diverted {
  channel: string;
  address: string;
  text: string;
  rule: RuleCode;
}

/** A chunk's events that join digests, with their user's window and the channels they would have gone on. */
export type DivertedSends = Map<Received, { windowMs: number; channels: Diverted[] }>;

/** The digest's trace line: `digested into <id>, sends at 12:10 Europe/Paris`. */
export const digestDetail = (id: string, dueAt: number, zone: string, now: number): string =>
  `digested into ${id}, sends at ${localLabel(dueAt, zone, now)}`;

/** A digest's envelope in its schedule entries: the digest id, its type and user, at its due time. */
export function digestEnvelope(id: string, type: string, userId: string, dueAt: number): string {
  return JSON.stringify({ id, type, userId, occurredAt: new Date(dueAt).toISOString(), payload: {} });
}

function payloadOf(member: DigestMember): Payload {
  try {
    const parsed = JSON.parse(member.event) as { payload?: unknown };
    const p = parsed.payload;
    return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Payload) : {};
  } catch {
    return {};
  }
}

export class DigestStep {
  constructor(private readonly o: DigestStepOptions) {}

  /** The user's window for the event's type, when the type is digestible and the user digests it. */
  private windowOf(entry: Received, lookup: BatchLookup): number | undefined {
    if (entry.channel !== undefined) return undefined; // a deferred send at its due time: sent as it is
    if (!this.o.catalog.eventTypes.get(entry.event.type)?.digest) return undefined;
    return lookup.users.get(entry.event.userId)?.rules?.digests[entry.event.type];
  }

  /**
   * Step 3½ of `process`, first half: the chunk's digestible sends and deferrals leave the plan's jobs
   * and deferrals (decided from the preferences alone: no Redis). Returns what {@link join} joins, if any.
   */
  divert(plan: Plan, lookup: BatchLookup): DivertedSends | undefined {
    const diverted: DivertedSends = new Map();
    const divert = (entry: Received, d: Diverted): boolean => {
      const windowMs = this.windowOf(entry, lookup);
      if (windowMs === undefined) return false;
      let found = diverted.get(entry);
      if (!found) diverted.set(entry, (found = { windowMs, channels: [] }));
      found.channels.push(d);
      return true;
    };
    let kept = 0;
    for (const job of plan.jobs)
      if (
        !divert(job.entry, {
          channel: job.channel,
          address: job.address,
          text: job.text,
          rule: job.rule ?? 'type-default',
        })
      )
        plan.jobs[kept++] = job;
    plan.jobs.length = kept;
    kept = 0;
    for (const d of plan.deferrals)
      if (!divert(d.entry, { channel: d.plan.channel, address: d.plan.address, text: d.plan.text, rule: d.plan.rule }))
        plan.deferrals[kept++] = d;
    plan.deferrals.length = kept;
    return diverted.size === 0 ? undefined : diverted;
  }

  /**
   * The second half: the diverted events join their users' open digests (one {@link DigestStore.join}
   * call per chunk), each (digest, channel) is written to the schedule, and each (event, channel) is
   * settled `digested`. Touches none of the plan's jobs: it runs beside the caps and the sends.
   */
  async join(chunk: ChunkContext, plan: Plan, lookup: BatchLookup, diverted: DivertedSends): Promise<void> {
    const { schedule, digests } = this.o;
    if (!schedule)
      throw new FatalConsumerError('an event joined a digest, but this consumer has no schedule to send it from');
    const entries = [...diverted.keys()];
    const joins: DigestJoin[] = entries.map((entry) => ({
      userId: entry.event.userId,
      type: entry.event.type,
      windowMs: diverted.get(entry)!.windowMs,
      eventId: entry.event.id,
      event: entry.storedEvent ?? JSON.stringify(entry.event),
      occurredAtMs: entry.occurredAtMs,
    }));
    const now = this.o.now();
    const joined = await this.o.run('joining digests in Redis', () => digests.join(joins, now), chunk);

    // One schedule entry per (digest, channel), written where absent.
    const sends = new Map<string, ScheduledSend>();
    entries.forEach((entry, i) => {
      const { digestId, dueAt } = joined[i]!;
      const { userId, type } = entry.event;
      const zone = lookup.users.get(userId)?.rules?.tz ?? 'UTC';
      for (const { channel } of diverted.get(entry)!.channels) {
        const key = `${digestId}\n${channel}`;
        if (sends.has(key)) continue;
        sends.set(key, {
          eventId: digestId,
          channel,
          userId,
          type,
          dueAt,
          zone,
          reason: 'digest',
          deferredAt: now,
          event: digestEnvelope(digestId, type, userId, dueAt),
          // The digest's event time is its due time: fixed when it opened, the same for every consumer.
          occurredAtMs: dueAt,
          topic: entry.source?.topic ?? chunk.topic,
          partition: entry.source?.partition ?? chunk.partition,
          offset: entry.message.offset,
          timestamp: entry.source?.timestamp ?? entry.message.timestamp,
          digest: { id: digestId, type },
        });
      }
    });
    await this.o.run("writing digests' sends to the schedule", () => schedule.add([...sends.values()], false), chunk);

    // One trace line per digest (its members share it): formatting a local time costs microseconds.
    const details = new Map<string, string>();
    entries.forEach((entry, i) => {
      const { digestId, dueAt } = joined[i]!;
      let detail = details.get(digestId);
      if (detail === undefined) {
        const zone = lookup.users.get(entry.event.userId)?.rules?.tz ?? 'UTC';
        details.set(digestId, (detail = digestDetail(digestId, dueAt, zone, now)));
      }
      for (const d of diverted.get(entry)!.channels) {
        const o = plan.settle(entry, d.channel, 'digested', 'digest', 0, d.address, d.text, d.rule);
        o.digestId = digestId;
        o.dueAt = dueAt;
        o.detail = detail;
      }
    });
  }

  /**
   * In `processDue`, once planned: each digest's send job gets the digest's text and its members (read
   * once per digest of the chunk). A digest without members (its keys expired) is skipped `digest-empty`.
   */
  async prepareDue(
    chunk: ChunkContext,
    plan: Plan,
    lookup: BatchLookup,
    events: readonly Received[],
  ): Promise<DueDigests | undefined> {
    const digestIds = new Set<string>();
    for (const e of events) if (e.digest) digestIds.add(e.digest.id);
    if (digestIds.size === 0) return undefined;
    const read = new Map<string, { members: DigestMember[]; total: number }>();
    const jobIds = new Set(plan.jobs.flatMap((j) => (j.entry.digest ? [j.entry.digest.id] : [])));
    await Promise.all(
      [...jobIds].map(async (id) => {
        const userId = plan.jobs.find((j) => j.entry.digest?.id === id)!.userId;
        const got = await this.o.run(
          `reading the members of ${id}`,
          () => this.o.digests.members(id, Infinity, userId),
          chunk,
        );
        read.set(id, got);
      }),
    );
    let kept = 0;
    for (const job of plan.jobs) {
      const digest = job.entry.digest;
      if (!digest) {
        plan.jobs[kept++] = job;
        continue;
      }
      const { members, total } = read.get(digest.id)!;
      if (members.length === 0) {
        const o = plan.settle(job.entry, job.channel, 'skipped', 'digest-empty', 0);
        o.digestId = digest.id;
        continue;
      }
      const definition = this.o.catalog.eventTypes.get(digest.type);
      const channel = this.o.catalog.channels.find((c) => c.name === job.channel);
      const user = lookup.users.get(job.userId)?.profile;
      if (definition?.digest && channel && user) {
        const listed = members.slice(0, DIGEST_LISTED).map(payloadOf);
        const content = definition.digest.content(listed, Math.max(0, total - listed.length), user);
        job.text = fit(channel.format(content), channel.maxLength);
      }
      job.members = members.map((m) => m.eventId);
      plan.jobs[kept++] = job;
    }
    plan.jobs.length = kept;
    return new DueDigests(this.o, chunk, plan, read, digestIds);
  }
}

/** A due chunk's digests, read: after the sends and the ledger, their members are marked delivered. */
export class DueDigests {
  constructor(
    private readonly o: DigestStepOptions,
    private readonly chunk: ChunkContext,
    private readonly plan: Plan,
    private readonly read: ReadonlyMap<string, { members: DigestMember[]; total: number }>,
    private readonly digestIds: ReadonlySet<string>,
  ) {}

  /**
   * Marks the members of each digest sent (or found sent before) on the channels it went on, merged
   * with what the ledger holds for them; then its outcomes carry the digest id and the members.
   */
  async finish(): Promise<void> {
    const channelsOf = new Map<string, { member: DigestMember; channels: Set<string> }>();
    for (const [id, { members }] of this.read) {
      const delivered = this.plan.deliveredNow.get(id);
      if (!delivered) continue;
      for (const member of members) {
        let mark = channelsOf.get(member.eventId);
        if (!mark) channelsOf.set(member.eventId, (mark = { member, channels: new Set() }));
        for (const c of delivered.channels) mark.channels.add(c);
      }
    }
    if (channelsOf.size > 0) {
      const events: LedgerEvent[] = [...channelsOf.values()].map(({ member }) => ({
        id: member.eventId,
        occurredAtMs: member.occurredAtMs,
      }));
      const { delivered } = await this.o.run(
        "reading the ledger for digests' members",
        () => this.o.store.lookupBatch([], events),
        this.chunk,
      );
      const marks: LedgerMark[] = [];
      for (const { member, channels } of channelsOf.values()) {
        for (const c of delivered.get(member.eventId) ?? []) channels.add(c);
        marks.push({ id: member.eventId, occurredAtMs: member.occurredAtMs, channels: [...channels].join(',') });
      }
      await this.o.run("marking digests' members delivered", () => this.o.store.markDelivered(marks), this.chunk);
    }
    for (const o of this.plan.settled) {
      if (!this.digestIds.has(o.eventId)) continue;
      const read = this.read.get(o.eventId);
      o.digestId = o.eventId;
      if (read) o.members = read.members.map((m) => m.eventId);
      delete o.deferred;
    }
  }
}
