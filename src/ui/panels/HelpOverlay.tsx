import type { HelpLine } from '../keymap.js';
import type { Theme } from '../theme.js';
import { ScrollView, type ViewLine } from '../views/ScrollView.js';

const KEY_WIDTH = 10;

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
    row('', ''),
    row('', `Logs (kafkajs and the app): ${props.logFile}`),
    row('on*', 'Users: on, but the user has no address for the channel (its sends: skipped no-address)'),
    row('☾', 'Users: in quiet hours now (sends deferred to their end, urgent types excepted)'),
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
