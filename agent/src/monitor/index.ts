export { AlarmDetector, type AlarmDetectorOptions, type AlarmThresholds, DEFAULT_THRESHOLDS } from './alarms';
export { MaterialsReporter, type MaterialsReporterOptions } from './materials';
export { Monitor, type MonitorOptions } from './monitor';
export type { MonitorSink } from './sink';
export { TELEMETRY_METRICS, TelemetrySampler, type TelemetrySamplerOptions } from './telemetry';
