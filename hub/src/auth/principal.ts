import type { Permission, Role } from '../rbac/permissions';

/** Who is calling, as proven by a verified access token. `merchantId` is null only for the platform superadmin. */
export interface Principal {
  userId: string;
  role: Role;
  merchantId: string | null;
  /**
   * Set when the call is made with an API key (on behalf of `userId`, its creator): the caller may do only
   * what both the role and the key grant, and only within the key's merchant, never platform-wide.
   */
  apiKey?: { id: string; permissions: readonly Permission[] };
}
