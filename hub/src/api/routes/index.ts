import * as deviceChannel from '../../device-channel/http-routes';
import type { RouteModule } from '../deps';
import * as alarms from './alarms';
import * as apiKeys from './api-keys';
import * as artifacts from './artifacts';
import * as auditLog from './audit-log';
import * as auth from './auth';
import * as claimCodes from './claim-codes';
import * as commands from './commands';
import * as dashboard from './dashboard';
import * as devices from './devices';
import * as dex from './dex';
import * as events from './events';
import * as finance from './finance';
import * as health from './health';
import * as locations from './locations';
import * as loginHistory from './login-history';
import * as maintenance from './maintenance';
import * as materials from './materials';
import * as merchants from './merchants';
import * as orders from './orders';
import * as recipes from './recipes';
import * as rollouts from './rollouts';
import * as signingKeys from './signing-keys';
import * as telemetry from './telemetry';
import * as users from './users';
import * as webhooks from './webhooks';
import * as workOrderAttachments from './work-order-attachments';
import * as workOrders from './work-orders';

/**
 * Every route module, registered in this order. To add one: one import line and one `push` line (a line
 * each, so parallel additions never touch the same line). Every operation it adds must also get a row in
 * the access matrix (`hub/test/api/matrix/routes.ts`); a test compares that table with the OpenAPI paths.
 */
export const routeModules: RouteModule[] = [];
routeModules.push(health);
routeModules.push(auth);
routeModules.push(loginHistory);
routeModules.push(users);
routeModules.push(merchants);
routeModules.push(locations);
routeModules.push(devices);
routeModules.push(telemetry);
routeModules.push(orders);
routeModules.push(finance);
routeModules.push(materials);
routeModules.push(alarms);
routeModules.push(workOrders);
routeModules.push(commands);
routeModules.push(recipes);
routeModules.push(auditLog);
routeModules.push(dashboard);
routeModules.push(events);
routeModules.push(webhooks);
routeModules.push(artifacts);
routeModules.push(signingKeys);
routeModules.push(deviceChannel);
routeModules.push(rollouts);
routeModules.push(dex);
routeModules.push(claimCodes);
routeModules.push(apiKeys);
routeModules.push(workOrderAttachments);
routeModules.push(maintenance);
