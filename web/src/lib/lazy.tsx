// Route-level code splitting: a page's chunk (uPlot for the site page) loads on first visit.
import { h, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function lazy<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  return function Lazy(props: P) {
    const [, setReady] = useState(loaded !== null);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      pending ??= load().then((m) => {
        loaded = m.default;
      });
      void pending.then(() => live && setReady(true));
      return () => {
        live = false;
      };
    }, []);
    return loaded ? h(loaded, props) : <p class="loading">Loading…</p>;
  };
}
