/** space, + and -: pause and pace the scheduled producer (from when Kafka is connected). */
import type { Pipeline } from '../../app/runtime.js';
import type { DashboardStore } from '../../ui/store.js';
import type { Notify } from './view-state.js';

export const RATE_STEPS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

export function nextRate(current: number, direction: 1 | -1): number {
  if (direction > 0) return RATE_STEPS.find((r) => r > current) ?? current;
  return [...RATE_STEPS].reverse().find((r) => r < current) ?? 0;
}

export class ProducerKeys {
  constructor(
    private readonly store: DashboardStore,
    private readonly current: () => Pipeline | undefined,
    private readonly notify: Notify,
  ) {}

  togglePause(): void {
    const producer = this.current()?.producer;
    const paused = !this.store.getState().producer.paused;
    producer?.setPaused(paused);
    this.store.setState((s) => ({ producer: { ...s.producer, paused } }));
    const later = producer ? '' : ' (from when Kafka is connected)';
    this.notify(paused ? 'scheduled producer paused (keys still inject)' : `scheduled producer resumed${later}`);
  }

  changeRate(direction: 1 | -1): void {
    const rate = nextRate(this.store.getState().producer.rate, direction);
    this.current()?.producer?.setRate(rate);
    this.store.setState((s) => ({ producer: { ...s.producer, rate } }));
    this.notify(`producer rate ${rate}/s${this.current()?.producer ? '' : ' (from when Kafka is connected)'}`);
  }
}
