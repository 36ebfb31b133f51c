import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { problemText, session } from './session';

/** Sends the request with the access token; on 401 refreshes once from the cookie and retries. */
async function authedFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const send = (req: Request) => {
    if (session.token) req.headers.set('authorization', `Bearer ${session.token}`);
    return fetch(req);
  };
  const res = await send(request);
  if (res.status !== 401) return res;
  return (await session.refresh()) ? send(retry) : res;
}

/** The typed client: paths, parameters and bodies come from the hub's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: location.origin, fetch: authedFetch });

/** Unwraps an openapi-fetch result: the data, or an Error carrying the problem's text. */
export function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined)
    throw new Error(problemText(result.error, result.response.status));
  return result.data;
}

/** For answers without a body (204 No Content): throws the problem's text when the call failed. */
export function mustSucceed(result: { error?: unknown; response: Response }): void {
  if (result.error !== undefined || !result.response.ok)
    throw new Error(problemText(result.error, result.response.status));
}

/** Downloads a CSV export (the export routes need the bearer token, so a plain link will not do). */
export async function download(path: string, query: Record<string, string | undefined>, file: string) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) if (v) url.searchParams.set(k, v);
  const res = await authedFetch(new Request(url));
  if (!res.ok) throw new Error(problemText(await res.json().catch(() => null), res.status));
  saveFile(await res.blob(), file);
}

/** Hands a blob to the browser as a download named `file`. */
export function saveFile(blob: Blob, file: string): void {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = file;
  a.click();
  setTimeout(() => URL.revokeObjectURL(href), 1000);
}
