/**
 * The mock notification provider: it behaves like a real one (latency, failures,
 * an idempotency key per send, a batch API) and keeps what it accepted outside the
 * consumer, in Redis, so a crash cannot make it forget:
 * `redis-cli LRANGE 'outbox:{provider}:email' -10 -1`.
 */
import { isPermanent, PermanentError } from '../../pipeline/errors.js';
import type { RedisClient } from './client.js';
import { DEDUPE_WINDOW_SECONDS, DEFAULT_OUTBOX_MAXLEN } from '../../config/retention.js';
import { ProviderError, type NotificationProvider, type SendRequest, type SendResult } from '../../pipeline/ports.js';
import { eventGeneration, outboxKey, providerSentKey } from './keys.js';

export interface MockProviderOptions {
  latencyMs: number;
  failureRate: number;
  /** Messages each outbox keeps (the newest). */
  outboxMaxLen: number;
  /** How long an idempotency key is remembered, at least (at most twice as long). */
  idempotencyWindowSeconds: number;
  random?: () => number;
  now?: () => number;
}

// Accept each (event, channel) once, for a batch of events of one window of event time, every channel
// at once, atomically: read the events' records in the window's hash, append the new messages to the
// channels' outboxes, write the records (field = event id, value = the channels accepted, in order).
// KEYS: the window's hash, then the outbox of each channel of the batch. ARGV: the hash's TTL, the
// outbox length, the channel names (comma-separated, in KEYS order), per entry (an event, in order)
// its number of sends as one byte ('@' + n), the entries' channels one byte each ('@' + the channel's
// place from 1: 'A' the first; letters, so that no client takes them for numbers), then 'joined' and the event ids in one argument joined by newlines (when none holds a
// newline: the usual case) or 'each' and one argument per id, then per channel its outbox lines (JSON,
// in entry order, joined by newlines: JSON text has none of its own). Returns one character per send,
// in order: '1' accepted, '0' already accepted, 'x' refused (that channel's outbox is a key of another
// type: nothing is written to it, the other channels go on). A records hash of another type refuses
// the whole call with an error naming it.
// The usual batch (no event seen before, none twice, no outbox refused) takes the short way: one HMGET,
// one HSET, one RPUSH per channel, and no Lua table per event.
const ACCEPT_MANY = `
local names = {}
for name in string.gmatch(ARGV[3], '[^,]+') do names[#names + 1] = name end
-- The pieces of a newline-joined argument, empty ones kept (one more than its newlines).
local function split(s)
  local pieces, from = {}, 1
  while true do
    local to = string.find(s, '\\n', from, true)
    if not to then
      pieces[#pieces + 1] = string.sub(s, from)
      return pieces
    end
    pieces[#pieces + 1] = string.sub(s, from, to - 1)
    from = to + 1
  end
end
-- Whether a key is absent or of the type given (TYPE is a status reply: a table on Redis).
local function holds(key, kind)
  local t = redis.call('TYPE', key)
  if type(t) == 'table' then t = t.ok end
  return t == kind or t == 'none'
end
local counts, chans = ARGV[4], ARGV[5]
local n, ids, blobAt = #counts, {}, 0
if ARGV[6] == 'joined' then
  ids = split(ARGV[7])
  blobAt = 8
else
  for i = 1, n do ids[i] = ARGV[6 + i] end
  blobAt = 7 + n
end
if not holds(KEYS[1], 'hash') then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' holds a value of another type, not a hash')
end
local refused, fresh = {}, true
for c = 1, #names do
  if not holds(KEYS[1 + c], 'list') then refused[c] = true fresh = false end
end
local known = redis.call('HMGET', KEYS[1], unpack(ids))
if fresh then
  for i = 1, n do
    if type(known[i]) == 'string' then fresh = false break end
  end
end
local function push(c, lines)
  if #lines == 0 then return end
  redis.call('RPUSH', KEYS[1 + c], unpack(lines))
  redis.call('LTRIM', KEYS[1 + c], -tonumber(ARGV[2]), -1)
end
if fresh then
  local fields, values, p = {}, {}, 1
  for i = 1, n do
    local k = string.byte(counts, i) - 64
    local mine = string.sub(chans, p, p + k - 1)
    local value = values[mine]
    if not value then
      local parts = {}
      for j = 1, k do parts[j] = names[string.byte(mine, j) - 64] end
      value = table.concat(parts, ',')
      values[mine] = value
    end
    fields[2 * i - 1] = ids[i]
    fields[2 * i] = value
    p = p + k
  end
  if redis.call('HSET', KEYS[1], unpack(fields)) == n then
    -- each channel of the call has a line at least: its blob is never empty
    for c = 1, #names do push(c, split(ARGV[blobAt + c - 1])) end
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    return string.rep('1', #chans)
  end
  -- An event twice in the batch: one by one below, which writes its records again.
end
local sets, lists, order, changed, out, pending, cursor = {}, {}, {}, {}, {}, {}, {}
for c = 1, #names do pending[c] = {} cursor[c] = 1 end
local p = 1
for i = 1, n do
  local id = ids[i]
  local set = sets[id]
  if not set then
    set, lists[id] = {}, {}
    if type(known[i]) == 'string' then
      for name in string.gmatch(known[i], '[^,]+') do
        set[name] = true
        lists[id][#lists[id] + 1] = name
      end
    end
    sets[id] = set
    order[#order + 1] = id
  end
  for j = 0, string.byte(counts, i) - 65 do
    local c = string.byte(chans, p + j) - 64
    local blob, from = ARGV[blobAt + c - 1], cursor[c]
    local to = string.find(blob, '\\n', from, true) or (#blob + 1)
    cursor[c] = to + 1
    local name = names[c]
    if refused[c] then
      out[#out + 1] = 'x'
    elseif set[name] then
      out[#out + 1] = '0'
    else
      set[name] = true
      lists[id][#lists[id] + 1] = name
      changed[id] = true
      out[#out + 1] = '1'
      pending[c][#pending[c] + 1] = string.sub(blob, from, to - 1)
    end
  end
  p = p + string.byte(counts, i) - 64
end
local fields = {}
for _, id in ipairs(order) do
  if changed[id] then
    fields[#fields + 1] = id
    fields[#fields + 1] = table.concat(lists[id], ',')
  end
end
if #fields > 0 then
  for c = 1, #names do push(c, pending[c]) end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return table.concat(out)`;

/** Events per script call: Lua's unpack() takes a few thousand values at most (HSET takes two per event). */
const SCRIPT_EVENTS = 1000;
/** Channels per script call (a batch with more takes more calls). */
const SCRIPT_CHANNELS = 16;

type AcceptMany = Record<string, ((...keysThenArgs: (string | number | string[])[]) => Promise<string>) | undefined>;

/** One outbox line: what the provider accepted, as JSON. */
export interface OutboxLine {
  event: string;
  user: string;
  to: string;
  text: string;
  /** When it was accepted, ms since the epoch. */
  at: number;
  /** A digest's message (`event` = the digest id): its members' event ids. */
  members?: string[];
}

// Characters a JSON string must escape (and lone surrogates): strings without any are quoted as they are.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;
const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** Strings quoted once per batch: a batch's users and addresses repeat, its texts do not. */
class Quoted {
  private readonly seen = new Map<string, string>();
  of(s: string): string {
    let quoted = this.seen.get(s);
    if (quoted === undefined) this.seen.set(s, (quoted = jsonString(s)));
    return quoted;
  }
}

/** A call's sends: entries (one per event, its sends in a row), their channels, the lines per channel. */
interface Call {
  generation: number;
  slots: number[];
  ids: string[];
  counts: string;
  chans: string;
  names: string[];
  lines: string[][];
}

export class MockProvider implements NotificationProvider {
  private readonly options: MockProviderOptions;
  constructor(
    private readonly redis: RedisClient,
    options: Partial<MockProviderOptions> = {},
  ) {
    this.options = {
      latencyMs: 0,
      failureRate: 0,
      outboxMaxLen: DEFAULT_OUTBOX_MAXLEN,
      idempotencyWindowSeconds: DEDUPE_WINDOW_SECONDS,
      ...options,
    };
    // One command per number of channels in a call, all defined now: ioredis copies its commands
    // into each (auto-)pipeline it makes, so one defined later is missing from those made before.
    for (let channels = 1; channels <= SCRIPT_CHANNELS; channels++)
      this.redis.defineCommand(this.command(channels), { numberOfKeys: 1 + channels, lua: ACCEPT_MANY });
  }

  /** The script as a command taking the record hash and `channels` outboxes. */
  private command(channels: number): string {
    return `etuiAcceptMany${channels}`;
  }

  private rejects(): boolean {
    return this.options.failureRate > 0 && (this.options.random ?? Math.random)() < this.options.failureRate;
  }

  /** The window of event time a send's idempotency record lives in. */
  private generation(request: SendRequest): number {
    return eventGeneration(request.occurredAtMs, this.options.idempotencyWindowSeconds, this.options.now ?? Date.now);
  }

  /**
   * The sends in `slots` as script calls: one per window of event time (a chunk's events share one, as
   * a rule) and {@link SCRIPT_EVENTS} events. An entry is an event's sends in a row; the same event
   * again, or the same channel twice, starts another entry (the script answers its repeats).
   */
  private calls(requests: readonly SendRequest[], slots: readonly number[]): Call[] {
    const at = String((this.options.now ?? Date.now)());
    const quoted = new Quoted();
    const calls: Call[] = [];
    type Open = { call: Call; counts: number[]; chans: number[]; channels: string[] };
    const open = new Map<number, Open>();
    const close = ({ call, counts, chans }: Open): void => {
      call.counts = String.fromCharCode(...counts);
      call.chans = String.fromCharCode(...chans);
    };
    let event = '';
    let eventId: string | undefined;
    for (const slot of slots) {
      const r = requests[slot]!;
      const generation = this.generation(r);
      let state = open.get(generation);
      // A call takes at most SCRIPT_CHANNELS channels: a channel past them starts another call.
      const full =
        state !== undefined && state.call.names.length >= SCRIPT_CHANNELS && !state.call.names.includes(r.channel);
      const sameEntry =
        state !== undefined &&
        !full &&
        state.call.ids[state.call.ids.length - 1] === r.eventId &&
        !state.channels.includes(r.channel);
      if (!sameEntry) {
        if (!state || full || state.call.ids.length >= SCRIPT_EVENTS) {
          if (state) close(state);
          const call: Call = { generation, slots: [], ids: [], counts: '', chans: '', names: [], lines: [] };
          calls.push(call);
          open.set(generation, (state = { call, counts: [], chans: [], channels: [] }));
        }
        state.call.ids.push(r.eventId);
        state.counts.push(64);
        state.channels = [];
      }
      const entry = state!;
      const { call } = entry;
      let c = call.names.indexOf(r.channel);
      if (c < 0) {
        c = call.names.push(r.channel) - 1;
        call.lines.push([]);
      }
      entry.channels.push(r.channel);
      entry.counts[entry.counts.length - 1] = entry.counts[entry.counts.length - 1]! + 1;
      entry.chans.push(65 + c);
      call.slots.push(slot);
      if (r.eventId !== eventId) {
        eventId = r.eventId;
        event = jsonString(eventId);
      }
      const members = r.members ? `,"members":[${r.members.map(jsonString).join(',')}]` : '';
      call.lines[c]!.push(
        `{"event":${event},"user":${quoted.of(r.userId)},"to":${quoted.of(r.address)},"text":${jsonString(r.text)},"at":${at}${members}}`,
      );
    }
    for (const state of open.values()) close(state);
    return calls;
  }

  private accept(call: Call): Promise<string> {
    const newlineInId = call.ids.some((id) => id.includes('\n'));
    // The ids in one argument: a command of a thousand small arguments cost the consumer more to
    // write (one string piece each) than the lines themselves.
    const accept = (this.redis as unknown as AcceptMany)[this.command(call.names.length)]!;
    return accept.call(
      this.redis,
      providerSentKey(call.generation),
      ...call.names.map(outboxKey),
      this.options.idempotencyWindowSeconds * 2,
      this.options.outboxMaxLen,
      call.names.join(','),
      call.counts,
      call.chans,
      ...(newlineInId ? ['each', call.ids] : ['joined', call.ids.join('\n')]),
      ...call.lines.map((lines) => lines.join('\n')),
    );
  }

  /** Accepts the sends in `slots` (none rejected by the simulated failures) into `results`. */
  private async deliver(
    requests: readonly SendRequest[],
    slots: readonly number[],
    results: (SendResult | ProviderError | PermanentError)[],
  ): Promise<void> {
    await Promise.all(
      this.calls(requests, slots).map((call) =>
        this.accept(call).then(
          (accepted) => {
            for (let j = 0; j < call.slots.length; j++) {
              const slot = call.slots[j]!;
              const answer = accepted[j];
              if (answer === '1') results[slot] = 'accepted';
              else if (answer === '0') results[slot] = 'already-accepted';
              else {
                const { channel } = requests[slot]!;
                const reply = new Error(`WRONGTYPE ${outboxKey(channel)} holds a value of another type, not a list`);
                results[slot] = new PermanentError(`${channel}: ${reply.message}`, reply);
              }
            }
          },
          (error: unknown) => {
            // The window's records refused (another program's key): those sends fail, the rest go on.
            if (!isPermanent(error)) throw error;
            for (const slot of call.slots)
              results[slot] = new PermanentError(`${requests[slot]!.channel}: ${(error as Error).message}`, error);
          },
        ),
      ),
    );
  }

  async sendMany(requests: readonly SendRequest[]): Promise<(SendResult | ProviderError | PermanentError)[]> {
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    const results: (SendResult | ProviderError | PermanentError)[] = new Array(requests.length);
    const slots: number[] = [];
    for (let i = 0; i < requests.length; i++) {
      if (this.rejects()) {
        results[i] = new ProviderError(`${requests[i]!.channel} provider rejected the send (simulated failure)`);
      } else {
        slots.push(i);
      }
    }
    await this.deliver(requests, slots, results);
    return results;
  }

  async send(request: SendRequest): Promise<SendResult> {
    const { latencyMs } = this.options;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (this.rejects()) throw new ProviderError(`${request.channel} provider rejected the send (simulated failure)`);
    const results: (SendResult | ProviderError | PermanentError)[] = [];
    await this.deliver([request], [0], results);
    const result = results[0]!;
    if (result instanceof Error) throw result;
    return result;
  }
}
