// The access token: from the URL fragment (`#token=...`, as printed by `make demo` and
// `edgewatch pair`), kept in localStorage, or pasted on the login screen. The fragment never
// reaches the server; it is removed from the address bar (and history) once read.

const KEY = 'edgewatch.token';

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // disabled storage: the token lives for this page only
  }
}

let current = null;

/** Extracts a token from a pasted string: a bare token or a URL with `#token=...`. */
export function parseToken(text) {
  const s = String(text ?? '').trim();
  const hash = s.indexOf('#');
  if (hash >= 0) {
    const t = new URLSearchParams(s.slice(hash + 1)).get('token');
    return t ? t.trim() : null;
  }
  return /^[A-Za-z0-9_\-.]+$/.test(s) ? s : null;
}

/** Reads the fragment's token (and removes it from the URL), else the stored one. */
export function loadToken() {
  const fromUrl = parseToken(location.hash);
  if (fromUrl) {
    saveToken(fromUrl);
    history.replaceState(null, '', location.pathname + location.search);
    return fromUrl;
  }
  current = storage()?.getItem(KEY) ?? null;
  return current;
}

export function saveToken(token) {
  current = token;
  storage()?.setItem(KEY, token);
}

export function forgetToken() {
  current = null;
  storage()?.removeItem(KEY);
}

export function token() {
  return current;
}
