import type { ApiKeyTables } from './tables/api-keys';
import type { BlobTables } from './tables/blobs';
import type { ClaimCodeTables } from './tables/claim-codes';
import type { CoordinationTables } from './tables/coordination';
import type { CoreTables } from './tables/core';
import type { DexTables } from './tables/dex';
import type { IngestTables } from './tables/ingest';
import type { MaintenanceTables } from './tables/maintenance';
import type { OperationsTables } from './tables/operations';
import type { SigningKeyTables } from './tables/signing-keys';
import type { UpdatesTables } from './tables/updates';
import type { WebhookTables } from './tables/webhooks';
import type { WorkOrderTables } from './tables/workorders';

/** The whole schema as Kysely sees it: one interface per concept, joined here. */
export interface Database
  extends CoreTables,
    IngestTables,
    OperationsTables,
    UpdatesTables,
    SigningKeyTables,
    WebhookTables,
    CoordinationTables,
    DexTables,
    ClaimCodeTables,
    ApiKeyTables,
    WorkOrderTables,
    MaintenanceTables,
    BlobTables {}
