export { FakeClock } from '@crema/protocol/testing';
