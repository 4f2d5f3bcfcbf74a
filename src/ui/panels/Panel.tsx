import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { DashboardStore } from '../store.js';
import type { Theme } from '../theme.js';

/** What every panel of the dashboard grid is given. */
export interface PanelProps {
  store: DashboardStore;
  theme: Theme;
  width: number;
  height: number;
}

/** A bordered panel of a fixed size with a title in its top line. */
export function Panel(props: {
  title: string;
  width: number;
  height: number;
  children: ReactNode;
  accent?: string | undefined;
  /** The panel the row keys act on: a double, highlighted border. */
  focused?: boolean;
}) {
  return (
    <Box
      flexDirection="column"
      width={props.width}
      height={props.height}
      borderStyle={props.focused ? 'double' : 'round'}
      borderColor={props.accent}
    >
      <Text bold wrap="truncate-end">
        {props.title}
      </Text>
      {props.children}
    </Box>
  );
}

/** Rows of text that fit inside a panel: height minus the border and the title. */
export const innerRows = (height: number): number => Math.max(0, height - 3);
export const innerWidth = (width: number): number => Math.max(0, width - 2);
