import { Box, Text } from 'ink';
import { localClock } from '../../domain/duration.js';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { ServiceHealth, TransportRow } from '../../telemetry/collector.js';
import { cell, clock, compactNumber } from '../format.js';
import type { DashboardState, DashboardStore } from '../store.js';
import type { Theme } from '../theme.js';
import { clusterSummary } from '../replicas.js';

const CLUSTER_COLOR = { plain: undefined, warn: 'yellow', bad: 'red' } as const;

const STATE_COLOR: Record<string, string> = {
  connected: 'green',
  connecting: 'yellow',
  error: 'red',
  disconnected: 'yellow',
};

function health(h: ServiceHealth, theme: Theme) {
  return <Text color={theme.color(STATE_COLOR[h.state])}>{h.state}</Text>;
}

/**
 * Where each channel's sends go, once some channel has a real transport: `email smtp://mail:25 answers ·
 * push mqtt://broker:1883 unreachable · sms console webhook mock`. Null while every channel is on the mock.
 */
export function transportsLine(rows: readonly TransportRow[]): string | null {
  const real = rows.filter((r) => r.via !== 'mock');
  if (real.length === 0) return null;
  const mock = rows.filter((r) => r.via === 'mock').map((r) => r.channel);
  const parts = real.map(
    (r) =>
      `${r.channel} ${r.via} ${r.answers === true ? 'answers' : r.answers === false ? `unreachable${r.downSince !== undefined ? ` since ${localClock(r.downSince)}` : ''}` : 'checking…'}`,
  );
  if (mock.length > 0) parts.push(`${mock.join(' ')} mock`);
  return parts.join(' · ');
}

/**
 * Kafka, topic, group, Redis, producer, the Kafka nodes and under-replicated partitions, clock: the two lines on top; then, once anything went wrong,
 * the error count and the newest error with its time (see {@link statusBarLines}).
 */
export function StatusBar({ store, theme, width }: { store: DashboardStore; theme: Theme; width: number }) {
  const s = useStore(
    store,
    useShallow((st) => ({
      info: st.info,
      kafka: st.snapshot.kafka,
      redis: st.snapshot.redis,
      partitions: st.snapshot.partitions,
      consumerStopped: st.snapshot.consumerStopped,
      partitionCount: st.partitionCount,
      lag: st.lag,
      producer: st.producer,
      now: st.now,
      errors: st.snapshot.totals.errors,
      lastError: st.snapshot.lastError,
      backlog: st.snapshot.backlog,
      filter: st.filter,
      transports: st.snapshot.transports,
      cluster: st.cluster,
    })),
  );
  const cluster = clusterSummary(s.cluster);
  const transports = transportsLine(s.transports);
  const unreachable = s.transports.some((t) => t.answers === false);
  const producer = s.producer.paused
    ? 'paused'
    : s.producer.rate === 0
      ? 'on demand'
      : `${compactNumber(s.producer.rate)}/s`;
  // Events Kafka has not acknowledged yet: kept and retried, never dropped; "full" slows the schedule.
  const backlog =
    s.backlog.unacknowledged > 0
      ? ` (${compactNumber(s.backlog.unacknowledged)} unacked${s.backlog.full ? ', full' : ''})`
      : '';
  const problem =
    s.kafka.state === 'error'
      ? `Kafka: ${s.kafka.detail}`
      : s.redis.state === 'error'
        ? `Redis: ${s.redis.detail}`
        : null;
  return (
    <Box flexDirection="column" width={width}>
      <Box width={width}>
        <Text wrap="truncate-end">
          <Text bold color={theme.color('cyan')}>
            eventstream-tui
          </Text>
          {s.info.mode ? <Text color={theme.color('magenta')}>{` ${s.info.mode.split(':')[0]}`}</Text> : null}
          {'  Kafka '}
          <Text>{cell(s.info.brokers, 24).trimEnd()}</Text> {health(s.kafka, theme)}
          {'  topic '}
          <Text>{cell(s.info.topic, 20).trimEnd()}</Text>
          {`×${s.partitionCount ?? '?'}`}
          {'  Redis '}
          <Text>{cell(s.info.redisUrl, 28).trimEnd()}</Text> {health(s.redis, theme)}
        </Text>
      </Box>
      <Box width={width}>
        <Box flexGrow={1} flexShrink={1} overflow="hidden">
          {problem ? (
            <Text color={theme.color('red')} wrap="truncate-end">
              {`⚠ ${cell(problem, width - 12).trimEnd()}`}
            </Text>
          ) : (
            <Text wrap="truncate-end">
              {'group '}
              <Text>{cell(s.info.group, 24).trimEnd()}</Text>
              {` partitions ${s.consumerStopped ? '(consumer stopped)' : s.partitions.length > 0 ? `[${s.partitions.join(',')}]` : '(joining the group…)'}  lag ${s.lag === null ? '?' : compactNumber(s.lag)}  producer `}
              <Text color={theme.color(s.producer.paused ? 'yellow' : 'green')}>{producer}</Text>
              {backlog ? <Text color={theme.color('yellow')}>{backlog}</Text> : null}
            </Text>
          )}
        </Box>
        {s.filter ? (
          <Box flexShrink={0}>
            <Text color={theme.color('yellow')} bold wrap="truncate-end">
              {` filter "${cell(s.filter, Math.max(4, Math.min(24, width - 60))).trimEnd()}"`}
            </Text>
          </Box>
        ) : null}
        {cluster ? (
          // Beside the clock, not at the end of the group's line: at 80 columns the group is cut, not this.
          <Box flexShrink={0}>
            <Text color={theme.color(CLUSTER_COLOR[cluster.tone])} wrap="truncate-end">
              {`  ${cell(cluster.text, Math.max(12, width - 11)).trimEnd()}`}
            </Text>
          </Box>
        ) : null}
        <Box flexShrink={0}>
          <Text>{` ${clock(s.now)}`}</Text>
        </Box>
      </Box>
      {transports ? (
        <Text color={theme.color(unreachable ? 'red' : undefined)} wrap="truncate-end">
          {cell(`transports  ${transports}`, width).trimEnd()}
        </Text>
      ) : null}
      {s.lastError ? (
        <Text color={theme.color('red')} wrap="truncate-end">
          {cell(
            `⚠ ${compactNumber(s.errors)} error${s.errors === 1 ? '' : 's'}, last ${clock(s.lastError.at)} ${s.lastError.source}: ${s.lastError.message}`,
            width,
          ).trimEnd()}
        </Text>
      ) : null}
      {s.info.mode ? (
        <Text color={theme.color('magenta')} wrap="truncate-end">
          {cell(s.info.mode, width).trimEnd()}
        </Text>
      ) : null}
    </Box>
  );
}

/** Lines the status bar takes: two, one more with a real transport, one more once an error happened, one more in a named mode. */
export function statusBarLines(state: DashboardState): number {
  return (
    2 +
    (transportsLine(state.snapshot.transports) ? 1 : 0) +
    (state.snapshot.lastError ? 1 : 0) +
    (state.info.mode ? 1 : 0)
  );
}
