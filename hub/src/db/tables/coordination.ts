/** Coordination between hub processes sharing one store (migration 0010). */
export interface JobLeasesTable {
  /** The scheduled job's name. */
  name: string;
  /** The process that holds it (a random id per process). */
  holder: string;
  /** Epoch ms when the lease runs out unless renewed. */
  until: number;
}

export interface CoordinationTables {
  job_leases: JobLeasesTable;
}
