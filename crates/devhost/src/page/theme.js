// The product page's light or dark theme (served at /dev/static/theme.js,
// loaded in <head> so the page never flashes the wrong colours).
//
// Atlassian's products mark the theme on the page's <html> element:
//
//   data-color-mode="light" | "dark"
//   data-theme="dark:dark light:light spacing:spacing typography:typography-adg3"
//
// The connect-js host bundle reads exactly these two attributes (its
// `getGlobalTheme`) and watches them with a MutationObserver. When an app's
// iframe calls `AP.theming.initializeTheming()`, the bundle sends it the
// current theme, and every later change, and the iframe's `all.js` copies the
// attributes onto the iframe's own <html> and loads the design tokens
// (`--ds-*` CSS variables). So switching the theme here is all it takes.
//
// The choice is the visitor's, remembered in this browser (localStorage);
// without one, the operating system's preference decides. The toggle button
// in the top bar is wired in host.js with `window.lodgerDevTheme.set`.
(function () {
  'use strict';

  const KEY = 'lodger-dev-theme';

  function stored() {
    try {
      const value = localStorage.getItem(KEY);
      return value === 'dark' || value === 'light' ? value : null;
    } catch (_) {
      return null; // storage disabled: follow the system
    }
  }

  function preferred() {
    return stored() || (window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  }

  function apply(mode) {
    const root = document.documentElement;
    root.setAttribute('data-theme', 'dark:dark light:light spacing:spacing typography:typography-adg3');
    root.setAttribute('data-color-mode', mode);
  }

  function set(mode) {
    try { localStorage.setItem(KEY, mode); } catch (_) { /* not remembered */ }
    apply(mode);
  }

  apply(preferred());
  window.lodgerDevTheme = {
    get: () => document.documentElement.getAttribute('data-color-mode'),
    set: set,
  };
})();
