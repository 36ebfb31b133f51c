import type { CoreTables } from './tables/core';
import type { IngestTables } from './tables/ingest';

/** The whole schema as Kysely sees it: one interface per concept, joined here. */
export interface Database extends CoreTables, IngestTables {}
