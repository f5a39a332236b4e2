// Routes and the signed-in shell. /status/<slug> is public and has no shell; everything else
// needs a session, and a session brings the live connection and the site list with it.
import { useEffect } from 'preact/hooks';
import { Link, Route, Switch, useLocation } from 'wouter-preact';
import { session, signOut } from './lib/auth';
import { lazy } from './lib/lazy';
import { connectLive, disconnectLive, liveState, onLive } from './lib/live';
import { applyConsensus, applyPing, loadSites, resetSites } from './lib/sites-store';
import { useStore } from './lib/store';
import { AuthPage } from './pages/AuthPage';
import { Dashboard } from './pages/Dashboard';

const SitePage = lazy(() => import('./pages/SitePage'));
const ClusterPage = lazy(() => import('./pages/ClusterPage'));
const StatusPagesPage = lazy(() => import('./pages/StatusPagesPage'));
const PublicStatusPage = lazy(() => import('./pages/PublicStatusPage'));
const NotificationsPage = lazy(() => import('./pages/NotificationsPage'));
const ApiKeysPage = lazy(() => import('./pages/ApiKeysPage'));

export function App() {
  const [location] = useLocation();
  const s = useStore(session);
  if (location.startsWith('/status/'))
    return (
      <Route path="/status/:slug">
        {(p) => <PublicStatusPage slug={decodeURIComponent(p.slug)} />}
      </Route>
    );
  if (!s) return <AuthPage mode={location === '/signup' ? 'signup' : 'login'} />;
  return <Shell token={s.token} email={s.email} />;
}

function Shell({ token, email }: { token: string; email: string }) {
  const live = useStore(liveState);
  const [location, navigate] = useLocation();
  useEffect(() => {
    connectLive(token);
    void loadSites();
    const offs = [
      onLive('consensus', applyConsensus),
      onLive('ping-result', applyPing),
      // events missed while disconnected: read the list again
      onLive('reconnected', () => void loadSites(true)),
    ];
    return () => {
      offs.forEach((off) => off());
      disconnectLive();
      resetSites();
    };
  }, [token]);
  useEffect(() => {
    if (location === '/login' || location === '/signup') navigate('/', { replace: true });
  }, [location]);
  const nav = (href: string, label: string) => (
    <Link href={href} aria-current={location === href ? 'page' : undefined}>
      {label}
    </Link>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Uptime monitor</span>
        <nav aria-label="Main">
          {nav('/', 'Sites')}
          {nav('/pages', 'Status pages')}
          {nav('/notifications', 'Notifications')}
          {nav('/settings/api-keys', 'API keys')}
          {nav('/cluster', 'Cluster')}
        </nav>
        <span class={`live live-${live}`} role="status">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Reconnecting…' : 'Offline'}
        </span>
        <span class="who">{email}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Switch>
          <Route path="/" component={Dashboard} />
          <Route path="/sites/:id">{(p) => <SitePage id={p.id} />}</Route>
          <Route path="/pages" component={StatusPagesPage} />
          <Route path="/notifications" component={NotificationsPage} />
          <Route path="/settings/api-keys" component={ApiKeysPage} />
          <Route path="/cluster" component={ClusterPage} />
          <Route>
            <h1>Not found</h1>
            <p>
              Nothing here. <Link href="/">Back to your sites</Link>.
            </p>
          </Route>
        </Switch>
      </main>
    </>
  );
}
