/**
 * The one table of who may do what. Routes ask for a permission, never for a role, so a new role is a new row
 * here and nothing else.
 */
export const ROLES = ['superadmin', 'merchant_admin', 'ops_engineer', 'finance', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'merchant:read',
  'merchant:write',
  'user:read',
  'user:write',
  'location:read',
  'location:write',
  'device:read',
  'device:write',
  'device:command',
  'telemetry:read',
  'order:read',
  'order:refund',
  'finance:read',
  'audit:read',
  'webhook:read',
  'webhook:write',
  /** API keys of integrations; managing them needs a user session, never a key. */
  'api_key:read',
  'api_key:write',
  /** Update artifacts are platform-wide: the vendor releases them (write), merchants roll them out (read). */
  'artifact:read',
  'artifact:write',
  /** Rotating or revoking the hub's signing key: the platform operator only. */
  'signing_key:write',
  /** Restarting a machine's "since reset" audit counters (DEX): finance reads them, so only admins reset. */
  'counters:reset',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const RolePermissions = {
  superadmin: PERMISSIONS,
  merchant_admin: [
    'user:read',
    'user:write',
    'location:read',
    'location:write',
    'device:read',
    'device:write',
    'device:command',
    'telemetry:read',
    'order:read',
    'order:refund',
    'finance:read',
    'audit:read',
    'webhook:read',
    'webhook:write',
    'artifact:read',
    'counters:reset',
    'api_key:read',
    'api_key:write',
  ],
  ops_engineer: [
    'location:read',
    'location:write',
    'device:read',
    'device:write',
    'device:command',
    'telemetry:read',
    'order:read',
    'artifact:read',
  ],
  finance: ['location:read', 'device:read', 'order:read', 'order:refund', 'finance:read'],
  viewer: ['location:read', 'device:read', 'telemetry:read', 'order:read'],
} as const satisfies Record<Role, readonly Permission[]>;

export function can(role: Role, permission: Permission): boolean {
  return (RolePermissions[role] as readonly Permission[]).includes(permission);
}
