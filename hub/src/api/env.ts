import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../auth/principal';

/** Per-request values set by middleware: the authenticated caller. */
export type HubEnv = { Variables: { principal: Principal } };

export type HubApp = OpenAPIHono<HubEnv>;
