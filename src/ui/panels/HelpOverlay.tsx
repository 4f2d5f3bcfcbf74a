import type { HelpLine } from '../keymap.js';
import type { Theme } from '../theme.js';
import { ScrollView, type ViewLine } from '../views/ScrollView.js';

const KEY_WIDTH = 10;

/** The help's lines after the keys: a gap, where the logs go, what the Users panel's marks mean. */
export function helpNotes(logFile: string): (readonly [string, string])[] {
  return [
    ['', ''],
    ['', `Logs (kafkajs and the app): ${logFile}`],
    ['on*', 'Users: on, but the user has no address for the channel (its sends: skipped no-address)'],
    ['☾', 'Users: in quiet hours now (sends deferred to their end, urgent types excepted)'],
  ];
}

/** Every key from the keymap (helpLines), and where the logs go; ↑↓ scroll it where the terminal is short. */
export function HelpOverlay(props: {
  keys: readonly HelpLine[];
  logFile: string;
  theme: Theme;
  width: number;
  height: number;
  scroll?: number;
}) {
  const row = (keys: string, text: string): ViewLine => ({
    text,
    lead: { text: keys, width: KEY_WIDTH, color: 'cyan' },
  });
  const lines: ViewLine[] = [
    ...props.keys.map((k) => row(k.keys, k.description)),
    ...helpNotes(props.logFile).map(([keys, text]) => row(keys, text)),
  ];
  return (
    <ScrollView
      title="Keys"
      lines={lines}
      footer={{ text: 'Press Esc or ? to close.', dim: true }}
      scroll={props.scroll ?? 0}
      theme={props.theme}
      width={props.width}
      height={props.height}
    />
  );
}
