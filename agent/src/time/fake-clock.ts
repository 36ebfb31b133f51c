export { FakeClock } from '@crema/protocol';
