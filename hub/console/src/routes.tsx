import type { ComponentChildren } from 'preact';
import type { Permission } from './api/session';
import { Account } from './pages/account';
import { AdminPage } from './pages/admin';
import { Alarms } from './pages/alarms';
import { ApiKeys } from './pages/api-keys';
import { ClaimCodes } from './pages/claim-codes';
import { AuditCountersPage } from './pages/counters';
import { Dashboard } from './pages/dashboard';
import { Firmware } from './pages/firmware';
import { MachineDetail } from './pages/machine';
import { Machines } from './pages/machines';
import { Maintenance } from './pages/maintenance';
import { Materials } from './pages/materials';
import { OrderDetail } from './pages/order';
import { Orders } from './pages/orders';
import { Recipes } from './pages/recipes';

export interface RouteDef {
  /** `:name` segments are passed to `page` in order. */
  path: string;
  /** In the navigation when set. */
  nav?: string;
  /** Shown only to roles with this permission (the API enforces it anyway). */
  needs?: Permission;
  page: (...args: string[]) => ComponentChildren;
}

/** Every page of the console. */
export const ROUTES: RouteDef[] = [
  { path: '/', nav: 'Dashboard', needs: 'device:read', page: () => <Dashboard /> },
  { path: '/machines', nav: 'Machines', needs: 'device:read', page: () => <Machines /> },
  { path: '/machines/:id', needs: 'device:read', page: (id) => <MachineDetail id={id ?? ''} /> },
  { path: '/claim-codes', nav: 'Claim codes', needs: 'device:write', page: () => <ClaimCodes /> },
  { path: '/maintenance', nav: 'Cleaning', needs: 'device:read', page: () => <Maintenance /> },
  { path: '/orders', nav: 'Orders', needs: 'order:read', page: () => <Orders /> },
  {
    path: '/orders/:device/:order',
    needs: 'order:read',
    page: (d, o) => <OrderDetail deviceId={d ?? ''} orderId={o ?? ''} />,
  },
  {
    path: '/counters',
    nav: 'Audit counters',
    needs: 'finance:read',
    page: () => <AuditCountersPage />,
  },
  { path: '/materials', nav: 'Materials', needs: 'device:read', page: () => <Materials /> },
  { path: '/recipes', nav: 'Recipes & prices', needs: 'device:read', page: () => <Recipes /> },
  { path: '/alarms', nav: 'Alarms & work', needs: 'device:read', page: () => <Alarms /> },
  { path: '/firmware', nav: 'Firmware', needs: 'artifact:read', page: () => <Firmware /> },
  { path: '/users', nav: 'Users', needs: 'user:read', page: () => <AdminPage kind="users" /> },
  {
    path: '/merchants',
    nav: 'Merchants',
    needs: 'merchant:read',
    page: () => <AdminPage kind="merchants" />,
  },
  {
    path: '/locations',
    nav: 'Locations',
    needs: 'location:read',
    page: () => <AdminPage kind="locations" />,
  },
  { path: '/api-keys', nav: 'API keys', needs: 'api_key:read', page: () => <ApiKeys /> },
  { path: '/audit', nav: 'Audit log', needs: 'audit:read', page: () => <AdminPage kind="audit" /> },
  { path: '/account', page: () => <Account /> },
];

export function match(path: string): { route: RouteDef; args: string[] } | null {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    const want = route.path.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const args: string[] = [];
    if (
      want.every((w, i) =>
        w.startsWith(':') ? args.push(decodeURIComponent(parts[i] ?? '')) > 0 : w === parts[i],
      )
    )
      return { route, args };
  }
  return null;
}
