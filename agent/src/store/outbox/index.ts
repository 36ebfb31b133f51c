export { MemoryOutbox } from './memory-outbox';
export { SqliteOutbox } from './sqlite-outbox';
export { OUTBOX_CLASSES, type Outbox, type OutboxClass, type OutboxOptions, type OutboxStats } from './types';
