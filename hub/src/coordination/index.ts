export { JobLeases, newProcessId } from './leases';
export { ScheduledJob, type ScheduledJobOptions } from './scheduled-job';
