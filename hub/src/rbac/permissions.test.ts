import { describe, expect, it } from 'vitest';
import { can, PERMISSIONS, ROLES, RolePermissions } from './permissions';
import { principalCan } from './require-permission';
import { TenantScope } from './scope';

describe('role → permission table', () => {
  it('gives the superadmin everything and merchant roles nothing platform-level', () => {
    for (const p of PERMISSIONS) expect(can('superadmin', p)).toBe(true);
    for (const role of ROLES.filter((r) => r !== 'superadmin')) {
      expect(can(role, 'merchant:write')).toBe(false);
      expect(can(role, 'merchant:read')).toBe(false);
    }
  });

  it('keeps viewers read-only and finance away from devices and users', () => {
    expect(RolePermissions.viewer.every((p) => p.endsWith(':read'))).toBe(true);
    expect(can('finance', 'order:refund')).toBe(true);
    expect(can('finance', 'device:write')).toBe(false);
    expect(can('finance', 'user:write')).toBe(false);
    expect(can('ops_engineer', 'device:command')).toBe(true);
    expect(can('ops_engineer', 'finance:read')).toBe(false);
    expect(can('ops_engineer', 'user:write')).toBe(false);
  });
});

describe('tenant scope', () => {
  it('filters merchant users to their merchant and lets the superadmin see all', () => {
    const own = new TenantScope({ userId: 'u', role: 'viewer', merchantId: 'm1' });
    expect(own.merchantId).toBe('m1');
    expect(own.sees('m1')).toBe(true);
    expect(own.sees('m2')).toBe(false);
    expect(own.sees(null)).toBe(false);
    const root = new TenantScope({ userId: 'r', role: 'superadmin', merchantId: null });
    expect(root.merchantId).toBeUndefined();
    expect(root.sees('m2')).toBe(true);
  });

  it('never lets a merchant user without a merchant see everything', () => {
    const orphan = new TenantScope({ userId: 'u', role: 'merchant_admin', merchantId: null });
    expect(orphan.merchantId).not.toBeUndefined();
    expect(orphan.sees(null)).toBe(false);
  });

  it('creates under the caller merchant; naming another one is NOT_FOUND', () => {
    const own = new TenantScope({ userId: 'u', role: 'merchant_admin', merchantId: 'm1' });
    expect(own.merchantForCreate(undefined)).toBe('m1');
    expect(own.merchantForCreate('m1')).toBe('m1');
    expect(() => own.merchantForCreate('m2')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const root = new TenantScope({ userId: 'r', role: 'superadmin', merchantId: null });
    expect(root.merchantForCreate('m2')).toBe('m2');
    expect(() => root.merchantForCreate(undefined)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});

describe('API key principals', () => {
  const keyOf = (role: 'superadmin' | 'merchant_admin') =>
    ({
      userId: 'u',
      role,
      merchantId: 'm1',
      apiKey: { id: 'k', permissions: ['order:read', 'device:write'] },
    }) as const;

  it('may use only what both the role and the key grant', () => {
    expect(principalCan(keyOf('merchant_admin'), 'order:read')).toBe(true);
    expect(principalCan(keyOf('merchant_admin'), 'order:refund')).toBe(false);
    const viewerKey = { ...keyOf('merchant_admin'), role: 'viewer' as const };
    expect(principalCan(viewerKey, 'device:write')).toBe(false);
    expect(principalCan({ userId: 'u', role: 'viewer', merchantId: 'm1' }, 'order:read')).toBe(true);
  });

  it("keeps a superadmin's key to its merchant", () => {
    const scope = new TenantScope(keyOf('superadmin'));
    expect(scope.isPlatform).toBe(false);
    expect(scope.merchantId).toBe('m1');
    expect(scope.sees('m2')).toBe(false);
    expect(() => scope.merchantForCreate('m2')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
