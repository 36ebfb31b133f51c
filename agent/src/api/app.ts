import type { MachineState } from '@crema/protocol';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { MaintenanceService } from '../maintenance/service';
import type { AgentMetrics, DriverHealth } from '../metrics/metrics';
import type { Bins } from '../monitor/bins';
import { buildMenu } from '../orders/menu';
import { FREE_VEND_KEY, salesLocked as isSalesLocked, type OrderService } from '../orders/order-service';
import type { RecipeRunner } from '../recipe/types';
import { activeAlarms } from '../store/record-sink';
import type { Store } from '../store/store';
import { errorResponse, onApiError } from './errors';
import { hostAllowList } from './guards/host';
import { jsonOnly } from './guards/json-only';
import { orderRoutes } from './orders';
import { serviceRoutes } from './service';

export type ApiOptions = {
  deviceId: string;
  store: Store;
  orders: OrderService;
  /** Cleaning compliance (absent in unit tests that do not need it). */
  maintenance?: MaintenanceService;
  runner: RecipeRunner;
  /** The machine's bins; technicians fill the unsensed ones through `/service/bins/{bin}/fill`. */
  bins?: Bins;
  metrics: AgentMetrics;
  health: () => DriverHealth;
  logger: Logger;
  bodyLimitBytes: number;
  /** Host names besides loopback the API answers to (the bound address is added by the caller). */
  allowedHosts?: readonly string[];
  /** The technician credential; without it service actions are refused. */
  technicianToken?: string;
  startedAt: number;
  now: () => number;
};

/**
 * The touchscreen's local API: it sells, and only a technician may change service settings. Every route
 * checks the Host header (DNS rebinding) and takes only JSON bodies (no cross-site "simple" requests).
 */
export function createApi(o: ApiOptions): Hono {
  const log = o.logger.child({ ns: 'agent:api' });
  const app = new Hono();
  app.onError(onApiError(log));
  app.notFound((c) =>
    errorResponse(c, new AgentError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)),
  );
  app.use('*', hostAllowList(o.allowedHosts ?? []));
  app.use('*', jsonOnly());
  app.use(
    '*',
    bodyLimit({
      maxSize: o.bodyLimitBytes,
      onError: (c) =>
        errorResponse(c, new AgentError('PAYLOAD_TOO_LARGE', `body over ${o.bodyLimitBytes} bytes`)),
    }),
  );

  app.get('/menu', (c) => c.json(buildMenu(o.store.catalog, o.runner, o.orders.salesRefusal())));
  app.route('/orders', orderRoutes(o.orders));

  app.get('/status', (c) => {
    const salesLocked = isSalesLocked(o.store.settings);
    const health = o.health();
    const alarms = activeAlarms(o.store.db);
    const maintenance = o.maintenance?.view() ?? null;
    const state: MachineState = salesLocked
      ? 'locked'
      : o.orders.busy
        ? 'brewing'
        : maintenance?.running
          ? 'maintenance'
          : maintenance?.salesLocked
            ? 'locked'
            : !health.brewer || alarms.some((a) => a.severity === 'critical')
              ? 'fault'
              : 'idle';
    return c.json({
      deviceId: o.deviceId,
      state,
      salesLocked,
      freeVend: o.store.settings.get<boolean>(FREE_VEND_KEY) ?? false,
      currentOrder: o.orders.currentOrderId ?? null,
      openOrders: o.orders.openCount(),
      drivers: health,
      alarms,
      /** Rinse and descale compliance; `lockReason` says why sales are locked when an overdue task locks them. */
      maintenance,
      outbox: o.store.outbox.stats(),
      recipeSetVersion: o.store.catalog.recipes().version,
      uptimeS: Math.floor((o.now() - o.startedAt) / 1000),
    });
  });

  app.route(
    '/service',
    serviceRoutes({
      store: o.store,
      logger: log,
      technicianToken: o.technicianToken,
      ...(o.maintenance ? { maintenance: o.maintenance } : {}),
      bins: o.bins,
    }),
  );

  app.get('/metrics', async (c) =>
    c.body(await o.metrics.text(), 200, { 'Content-Type': o.metrics.contentType }),
  );

  return app;
}
