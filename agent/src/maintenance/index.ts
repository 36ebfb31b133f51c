export type { TaskCompliance } from './compliance';
export { MAINTENANCE_COUNTERS_KEY } from './counters';
export { type MaintenanceConfig, type MaintenanceConfigInput, MaintenanceConfigSchema } from './policy';
export { MaintenanceService, type MaintenanceSource, type MaintenanceView } from './service';
