import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { session } from './api/session';
import { Login } from './pages/login';
import { match, ROUTES } from './routes';
import { useRoute, useSession } from './ui/hooks';
import './styles.css';

function Shell() {
  const s = useSession();
  const { path } = useRoute();
  const [menu, setMenu] = useState(false);
  const found = match(path);
  useEffect(() => {
    setMenu(false);
    document.getElementById('main')?.focus();
  }, [path]);
  const allowed = found && (!found.route.needs || s.can(found.route.needs));
  return (
    <div class="shell">
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <button
          type="button"
          class="menu-toggle"
          aria-expanded={menu}
          aria-controls="nav"
          onClick={() => setMenu(!menu)}
        >
          Menu
        </button>
        <span class="brand">Crema</span>
        <span class="who">
          <a href="#/account">{s.me?.email}</a> <span class="role">{s.me?.role}</span>
        </span>
        <button type="button" onClick={() => void session.logout()}>
          Log out
        </button>
      </header>
      <nav id="nav" class={menu ? 'open' : ''} aria-label="Main">
        <ul>
          {ROUTES.filter((r) => r.nav && (!r.needs || s.can(r.needs))).map((r) => (
            <li key={r.path}>
              <a href={`#${r.path}`} aria-current={found?.route === r ? 'page' : undefined}>
                {r.nav}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {allowed ? (
          found.route.page(...found.args)
        ) : (
          <p>{found ? 'Your role cannot see this page.' : 'No such page.'}</p>
        )}
      </main>
    </div>
  );
}

function App() {
  const s = useSession();
  const [restoring, setRestoring] = useState(true);
  // A reload keeps the session through the HttpOnly cookie: ask for a fresh access token first.
  useEffect(() => {
    void s.refresh().finally(() => setRestoring(false));
  }, []);
  if (restoring) return <p class="boot">Loading…</p>;
  return s.me ? <Shell /> : <Login />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
