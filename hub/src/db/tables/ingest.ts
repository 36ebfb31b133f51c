/** Tables written by the ingest path (device records and fleet state). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the ingest migrations
export interface IngestTables {}
