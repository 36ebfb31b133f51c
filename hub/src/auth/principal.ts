import type { Role } from '../rbac/permissions';

/** Who is calling, as proven by a verified access token. `merchantId` is null only for the platform superadmin. */
export interface Principal {
  userId: string;
  role: Role;
  merchantId: string | null;
}
