export { type Clock, type ClockTimer, sleep, systemClock } from '@crema/protocol';
