/** Colours, or none when NO_COLOR is set (https://no-color.org). */
import type { DeliveryStatus } from '../telemetry/outcomes.js';

/** Whether the environment wants colour (NO_COLOR, read in src/config/environment.ts). */
export { colorWanted as colorEnabled } from '../config/environment.js';

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
  deferred: 'cyan',
  digested: 'cyan',
  deadletter: 'magenta',
};
