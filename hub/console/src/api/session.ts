import type { components } from './schema';

export type Me = components['schemas']['Me'];
export type Permission = Me['permissions'][number];

/** Sent on every cookie-session call: a cross-site page cannot set it without a CORS preflight. */
const CSRF = { 'x-crema-csrf': '1' };
type Tokens = components['schemas']['SessionTokens'];

/**
 * The signed-in session. The access token lives in this module's memory only; the refresh token is an
 * HttpOnly cookie the hub sets, so no script (ours or injected) can read it.
 */
export class Session {
  token: string | null = null;
  me: Me | null = null;
  private listeners = new Set<() => void>();
  private refreshing: Promise<boolean> | null = null;

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  can(permission: Permission): boolean {
    return this.me?.permissions.includes(permission) ?? false;
  }

  private async adopt(tokens: Tokens): Promise<void> {
    this.token = tokens.accessToken;
    const res = await fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`could not read the account (${res.status})`);
    this.me = (await res.json()) as Me;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  /** Returns the problem's text on failure. */
  async login(email: string, password: string): Promise<string | null> {
    const res = await fetch('/api/v1/auth/session', {
      method: 'POST',
      headers: { ...CSRF, 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
      credentials: 'same-origin',
    });
    if (!res.ok) return problemText(await res.json().catch(() => null), res.status);
    await this.adopt((await res.json()) as Tokens);
    return null;
  }

  /** A new access token from the cookie; one refresh at a time however many calls ask. */
  refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      try {
        const res = await fetch('/api/v1/auth/session/refresh', {
          method: 'POST',
          headers: CSRF,
          credentials: 'same-origin',
        });
        if (!res.ok) {
          this.clear();
          return false;
        }
        await this.adopt((await res.json()) as Tokens);
        return true;
      } catch {
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async logout(): Promise<void> {
    await fetch('/api/v1/auth/session/logout', { method: 'POST', headers: CSRF, credentials: 'same-origin' });
    this.clear();
  }

  async changePassword(currentPassword: string, newPassword: string): Promise<string | null> {
    const res = await fetch('/api/v1/auth/session/password', {
      method: 'POST',
      headers: { ...CSRF, 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ currentPassword, newPassword }),
      credentials: 'same-origin',
    });
    if (!res.ok) return problemText(await res.json().catch(() => null), res.status);
    await this.adopt((await res.json()) as Tokens);
    return null;
  }

  clear(): void {
    this.token = null;
    this.me = null;
    this.emit();
  }
}

export const session = new Session();

/** One line from an RFC 9457 problem (or whatever came back). */
export function problemText(body: unknown, status: number): string {
  const p = body as { detail?: string; title?: string; code?: string } | null;
  const text = p?.detail ?? p?.title ?? `request failed (${status})`;
  return p?.code ? `${text} (${p.code})` : text;
}
