/** The simulator's tests drive time with the shared virtual clock. */
export { FakeClock as ManualClock } from '@crema/protocol';
