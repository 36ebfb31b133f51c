export * from './recipe';
export * from './steps';
