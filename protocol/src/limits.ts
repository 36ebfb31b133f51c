/** Size limits, in bytes of UTF-8 unless said otherwise. Receivers refuse anything larger. */
export const Limits = {
  /** Default for one MQTT/HTTP message. */
  messageBytes: 64 * 1024,
  /** Messages that carry recipe bundles or batches. */
  largeMessageBytes: 1024 * 1024,
  /** Records in one batch message. */
  batchRecords: 500,
  /** Samples in one telemetry message. */
  telemetrySamples: 1000,
  /** One serial or payment line, terminator included. */
  lineBytes: 256,
  /** Recipes in one bundle. */
  recipesPerBundle: 200,
  /** Ids in one acknowledgement. */
  ackIds: 1000,
} as const;
