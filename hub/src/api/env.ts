import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../auth/principal';
import type { VerifiedToken } from '../auth/tokens';

/** Per-request values set by middleware: the authenticated caller and the session its token belongs to. */
export type HubEnv = { Variables: { principal: Principal; session: VerifiedToken } };

export type HubApp = OpenAPIHono<HubEnv>;
