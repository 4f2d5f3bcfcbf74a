/**
 * The dashboard: status bar, event stream, deliveries, Redis look-ups,
 * throughput, users, footer. Sizes follow the terminal; every panel renders
 * only the rows that fit.
 */
import { Box, Text, useInput } from 'ink';
import { useEffect, useMemo } from 'react';
import { useStore } from 'zustand';
import {
  buildKeymap,
  dispatchKey,
  footerEntries,
  helpLines,
  keyMode,
  keystrokes,
  type DashboardActions,
} from './keymap.js';
import { Deliveries } from './panels/Deliveries.js';
import { EventStream } from './panels/EventStream.js';
import { Footer } from './panels/Footer.js';
import { HelpOverlay } from './panels/HelpOverlay.js';
import { Lookups } from './panels/Lookups.js';
import { StatusBar, statusBarLines } from './panels/StatusBar.js';
import { Throughput } from './panels/Throughput.js';
import { Users } from './panels/Users.js';
import type { DashboardStore } from './store.js';
import { makeTheme } from './theme.js';
import { useTerminalSize } from './use-terminal-size.js';
import { viewOf } from './views/registry.js';

export interface AppProps {
  store: DashboardStore;
  actions: DashboardActions;
  color?: boolean;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: { columns: number; rows: number } | undefined;
}

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;

export function App({ store, actions, color = true, size }: AppProps) {
  const { columns, rows } = useTerminalSize(size);
  const theme = useMemo(() => makeTheme(color), [color]);
  const channels = useStore(store, (s) => s.channels);
  const eventTypes = useStore(store, (s) => s.eventTypes);
  const help = useStore(store, (s) => s.help);
  const scroll = useStore(store, (s) => s.scroll);
  const view = useStore(store, (s) => s.view);
  const mode = useStore(store, keyMode);
  const logFile = useStore(store, (s) => s.info.logFile);
  const startup = useStore(store, (s) => s.startup);
  const statusLines = useStore(store, statusBarLines);
  const bindings = useMemo(() => buildKeymap(eventTypes, channels), [eventTypes, channels]);
  const footer = useMemo(() => footerEntries(bindings, mode), [bindings, mode]);
  const keys = useMemo(() => helpLines(bindings), [bindings]);

  useInput((input, key) => {
    // The mode is read when the key comes, not from the last render: keys typed fast act in order.
    for (const [one, k] of keystrokes(input, key)) dispatchKey(bindings, one, k, actions, keyMode(store.getState()));
  });

  // Keep the last column free: some terminals scroll when the bottom-right cell is written.
  const width = Math.max(20, columns - 1);
  const bodyRows = rows - 1 - statusLines;
  useEffect(() => {
    store.setState({ viewport: { columns: width, rows: bodyRows } });
  }, [store, width, bodyRows]);
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return (
      <Box flexDirection="column" width={width}>
        <Text wrap="wrap">{`eventstream-tui needs at least ${MIN_COLUMNS}×${MIN_ROWS}; this terminal is ${columns}×${rows}. Enlarge it, or press q to quit.`}</Text>
      </Box>
    );
  }
  const body = rows - 1 - statusLines;
  const topH = Math.ceil(body * 0.55);
  const bottomH = body - topH;
  const streamW = Math.floor(width * (width < 100 ? 0.5 : 0.45));
  const lookupsW = Math.floor(width * 0.3);
  const throughputW = Math.floor(width * 0.33);
  const usersW = width - lookupsW - throughputW;
  const View = view === 'main' ? null : viewOf(view).component;

  return (
    <Box flexDirection="column" width={width} height={rows}>
      <StatusBar store={store} theme={theme} width={width} />
      {help ? (
        <HelpOverlay keys={keys} logFile={logFile} theme={theme} width={width} height={body} scroll={scroll} />
      ) : View ? (
        <View store={store} theme={theme} width={width} height={body} />
      ) : startup.length > 0 ? (
        <Box flexDirection="column" width={width} height={body} borderStyle="round" paddingX={1} overflow="hidden">
          <Text bold>Starting the local stack</Text>
          {startup.slice(-(body - 3)).map((line, i) => (
            <Text key={i} wrap="truncate-end">
              {line}
            </Text>
          ))}
        </Box>
      ) : (
        <>
          <Box height={topH} width={width}>
            <EventStream store={store} theme={theme} width={streamW} height={topH} />
            <Deliveries store={store} theme={theme} width={width - streamW} height={topH} />
          </Box>
          <Box height={bottomH} width={width}>
            <Lookups store={store} theme={theme} width={lookupsW} height={bottomH} />
            <Throughput store={store} theme={theme} width={throughputW} height={bottomH} />
            <Users store={store} theme={theme} width={usersW} height={bottomH} />
          </Box>
        </>
      )}
      <Footer store={store} theme={theme} entries={footer} width={width} />
    </Box>
  );
}
