export * from './bundle';
export * from './recipe';
export * from './steps';
