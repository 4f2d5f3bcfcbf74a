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
