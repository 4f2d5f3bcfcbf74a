/** Colours, or none when NO_COLOR is set (https://no-color.org). */
import type { DeliveryStatus } from '../telemetry/outcomes.js';

export const colorEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  !('NO_COLOR' in env && env.NO_COLOR !== '');

export interface Theme {
  color(name: string | undefined): string | undefined;
}

export function makeTheme(enabled: boolean): Theme {
  return { color: (name) => (enabled ? name : undefined) };
}

export const STATUS_COLOR: Record<DeliveryStatus | 'deadletter', string> = {
  sent: 'green',
  skipped: 'gray',
  duplicate: 'blue',
  failed: 'red',
  deadletter: 'magenta',
};
